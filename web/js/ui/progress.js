/** A <progress> bar and its status line, fed with bytes done (at most ~10 repaints a second). */

import { TransferMeter, describeProgress } from "../files/progress.js";

export class ProgressView {
  /**
   * @param {HTMLProgressElement} bar
   * @param {HTMLElement} status
   * @param {number} totalBytes
   */
  constructor(bar, status, totalBytes) {
    this.bar = bar;
    this.status = status;
    this.meter = new TransferMeter(totalBytes);
    this._lastPaint = 0;
    bar.max = 100;
    bar.value = 0;
    status.textContent = describeProgress(this.meter.update(0));
  }

  /** @param {number} doneBytes */
  update(doneBytes) {
    const snapshot = this.meter.update(doneBytes);
    const now = performance.now();
    if (now - this._lastPaint < 100 && doneBytes < this.meter.totalBytes) return;
    this._lastPaint = now;
    this.bar.value = snapshot.percent;
    this.status.textContent = describeProgress(snapshot);
  }
}
