// Times as people read them: relative to now, and exact in their own time zone.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { localTime, relativeTime } from "../../../web/js/ui/times.js";

const NOW = new Date("2026-12-07T12:00:00Z");
const at = (iso) => new Date(iso);

describe("relativeTime", () => {
  for (const [moment, expected] of [
    ["2026-12-08T11:00:00Z", "in 23 hours"],
    ["2026-12-07T11:57:00Z", "3 minutes ago"],
    ["2026-12-07T12:00:20Z", "just now"],
    ["2026-12-10T12:00:00Z", "in 3 days"],
    ["2026-12-06T12:00:00Z", "yesterday"],
    ["2027-01-07T12:00:00Z", "next month"],
  ]) {
    test(`${moment} → ${expected}`, () => {
      assert.equal(relativeTime(at(moment), NOW, "en-US"), expected);
    });
  }
});

describe("localTime", () => {
  test("names the day, the time and the zone it is in", () => {
    const shown = localTime(at("2026-12-08T02:47:00Z"), "en-GB", "Europe/Paris");
    assert.match(shown, /Tue, 8 Dec 2026, 03:47 CET/);
  });
});
