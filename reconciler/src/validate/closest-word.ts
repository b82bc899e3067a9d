// "Did you mean ...?" for misspelt keys, roles, hardware ids and models.
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] as number;
}

/** The closest of `options` to `word`, when close enough to be a typo. */
export function closestWord(word: string, options: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  // Long hostile values would make this quadratic; a typo is short.
  const w = word.slice(0, 100);
  for (const option of options) {
    const d = editDistance(w, option);
    if (d < bestDistance || (d === bestDistance && best !== undefined && option < best)) {
      bestDistance = d;
      best = option;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}
