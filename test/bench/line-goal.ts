/**
 * Issue 15's goal for the line benchmarks (line.ts sending, line-receive.ts receiving): our CPU per
 * page at most twice efax's and the line time at most 1.05 times efax's, both ratios from calls in
 * the same run on the same pages and modem pair.
 */

export const LINE_TIME_GOAL = 1.05;
export const CPU_RATIO_GOAL = 2;

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

export function lineGoal(oursCpuMsPerPage: number, efaxCpuMsPerPage: number, lineTimeRatio: number) {
  const cpuRatio = round(oursCpuMsPerPage / efaxCpuMsPerPage, 2);
  return {
    cpuMsPerPage: { ours: oursCpuMsPerPage, efax: efaxCpuMsPerPage },
    cpuRatio,
    cpuRatioGoal: CPU_RATIO_GOAL,
    lineTimeRatio,
    lineTimeRatioGoal: LINE_TIME_GOAL,
    met: cpuRatio <= CPU_RATIO_GOAL && lineTimeRatio <= LINE_TIME_GOAL,
  };
}
