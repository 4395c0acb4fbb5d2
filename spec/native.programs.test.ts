/**
 * Unmodified programs from Debian as guests through the preload library: `blinkd run`
 * starts them with LD_PRELOAD, and each scenario runs twice, under blinkd and under a real
 * PID namespace (`unshare --pid --fork --mount-proc`, as root), with the same output and
 * exit status expected (the scenarios: spec/helpers/programs.ts, which spec/blink.programs
 * runs in blink too), and the shared conformance programs likewise.
 */
import { describe } from "vitest";
import { conformance, programSuites } from "./helpers/programs.js";

describe("through the preload library", () => programSuites("blinkd"));

describe("the shared conformance programs", () => conformance("blinkd"));
