/**
 * Signal, group and session scenarios run on real Linux (PID 1 of a fresh PID namespace)
 * and through blinkd (a real daemon, one real guest process per emulated process): the
 * traces must be identical. The scripts are spec/scenarios/*.txt.
 */
import { describe, expect, it } from "vitest";
import { blinkdTrace, linuxTrace } from "./helpers/scenario.js";

const scenarios: [string, string][] = [
  ["groups", "setpgid/getpgid/getpgrp/setsid/getsid: every errno in Linux's precedence"],
  ["kill", "kill/tkill/tgkill targets, the signal-0 probe, ESRCH before EINVAL, zombies, siginfo of kill and tkill"],
  ["permission", "kill's uid rule, SIGCONT within a session, kill(-1) and group kills under EPERM"],
];

describe("signals, groups and sessions against real Linux", () => {
  for (const [name, what] of scenarios) {
    it(`${name}: ${what}`, async () => {
      const linux = linuxTrace(name);
      expect(linux.length).toBeGreaterThan(0);
      expect(await blinkdTrace(name)).toEqual(linux);
    });
  }
});
