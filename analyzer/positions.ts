// Owns offset -> (line, column) for evidence, shared by the AST scan and the lexical fallback.

let lineCache: { source: string; starts: number[] } | undefined;

/** 1-based line and 0-based column of an offset (line index cached for the last source). */
export function lineColumn(source: string, offset: number): { line: number; column: number } {
  if (lineCache?.source !== source) {
    const starts = [0];
    for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) starts.push(i + 1);
    lineCache = { source, starts };
  }
  const starts = lineCache.starts;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - (starts[lo] ?? 0) };
}
