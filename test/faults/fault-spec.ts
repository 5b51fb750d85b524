import { faultTimings, runScenario, ScenarioName, TEST_TIMINGS } from './scenarios';

/**
 * The body of each fault spec: runs the scenario with the suite's short timings and expects
 * every invariant to hold. The problems list names each broken one, so a failure reads as a report.
 */
export function describeFaultScenario(name: ScenarioName, title: string): void {
  // Cluster start, fault, drain and settle: minutes, not the default two.
  jest.setTimeout(300_000);
  describe(`Fault: ${title}`, () => {
    it('every acknowledged task ends SUCCESS or its chosen FAILURE, once in effect, with no unspecified 5xx', async () => {
      const report = await runScenario(name, faultTimings(TEST_TIMINGS), (line) => process.stderr.write(`${line}\n`));
      const summary = { ...report, logTail: undefined };
      if (report.problems.length > 0) process.stderr.write(`${report.logTail}\n`);
      expect(summary.problems).toEqual([]);
      expect(summary).toMatchObject({ lost: 0, duplicated: 0 });
      expect(report.accepted).toBeGreaterThan(0);
    });
  });
}
