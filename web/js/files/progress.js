/**
 * Transfer progress as people read it: percent, amount, speed and time left. Pure (the clock is
 * injected), so it runs under node --test.
 */

const WINDOW_MS = 4000; // speed over the last few seconds: recent enough to follow changes

export class TransferMeter {
  /**
   * @param {number} totalBytes
   * @param {() => number} [now] milliseconds
   */
  constructor(totalBytes, now = () => performance.now()) {
    this.totalBytes = totalBytes;
    this._now = now;
    /** @type {{at: number, bytes: number}[]} */
    this._samples = [{ at: now(), bytes: 0 }];
  }

  /**
   * @param {number} doneBytes bytes transferred so far
   * @returns {{percent: number, doneBytes: number, totalBytes: number,
   *   bytesPerSecond: number | null, secondsLeft: number | null}}
   */
  update(doneBytes) {
    const at = this._now();
    this._samples.push({ at, bytes: doneBytes });
    while (this._samples.length > 2 && at - this._samples[1].at >= WINDOW_MS) this._samples.shift();
    const oldest = this._samples[0];
    const elapsed = (at - oldest.at) / 1000;
    // Under a quarter second the figure would be noise.
    const bytesPerSecond = elapsed >= 0.25 ? Math.max(0, doneBytes - oldest.bytes) / elapsed : null;
    const left = Math.max(0, this.totalBytes - doneBytes);
    return {
      percent: this.totalBytes === 0 ? 100 : Math.min(100, Math.floor((doneBytes / this.totalBytes) * 100)),
      doneBytes,
      totalBytes: this.totalBytes,
      bytesPerSecond,
      secondsLeft: bytesPerSecond ? Math.ceil(left / bytesPerSecond) : null,
    };
  }
}

/**
 * Bytes in decimal units, as download dialogs show them: "950 B", "12.3 MB", "1.07 GB".
 * @param {number} bytes
 */
export function formatBytes(bytes) {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** @param {number} seconds */
export function formatDuration(seconds) {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) {
    const minutes = Math.floor(seconds / 60);
    const rest = Math.round(seconds % 60);
    return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
  }
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.round((seconds % 3600) / 60);
  return minutes ? `${hours} h ${minutes} min` : `${hours} h`;
}

/**
 * "42% · 21.0 MB of 50.0 MB · 95.2 MB/s · 3 s left"
 * @param {ReturnType<TransferMeter["update"]>} snapshot
 */
export function describeProgress(snapshot) {
  const parts = [
    `${snapshot.percent}%`,
    `${formatBytes(snapshot.doneBytes)} of ${formatBytes(snapshot.totalBytes)}`,
  ];
  if (snapshot.bytesPerSecond !== null) parts.push(`${formatBytes(snapshot.bytesPerSecond)}/s`);
  if (snapshot.secondsLeft !== null && snapshot.doneBytes < snapshot.totalBytes) {
    parts.push(`${formatDuration(snapshot.secondsLeft)} left`);
  }
  return parts.join(" · ");
}
