/** Where a scenario runs (spec/scenarios.md, "Running"): one class per side. */
export { BlinkdSide } from "./blinkd.js";
export { BlinkSide, blinkUnavailable } from "./blink.js";
export { LinuxSide, buildLinuxAgent, linuxUnavailable } from "./linux.js";
export { missingCalls } from "./daemon.js";
