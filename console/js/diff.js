// diff.js - a line diff (longest common subsequence) of two texts, for the
// version comparison. Inputs are bounded by the parameter size limits.
export function diffLines(a, b) {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length, m = y.length;
  if (n * m > 4e6) return [...x.map((t) => ({ op: '-', t })), ...y.map((t) => ({ op: '+', t }))];
  const w = m + 1;
  const L = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      L[i * w + j] = x[i] === y[j] ? L[(i + 1) * w + j + 1] + 1 : Math.max(L[(i + 1) * w + j], L[i * w + j + 1]);
  const out = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { out.push({ op: ' ', t: x[i] }); i++; j++; }
    else if (L[(i + 1) * w + j] >= L[i * w + j + 1]) out.push({ op: '-', t: x[i++] });
    else out.push({ op: '+', t: y[j++] });
  }
  while (i < n) out.push({ op: '-', t: x[i++] });
  while (j < m) out.push({ op: '+', t: y[j++] });
  return out;
}
