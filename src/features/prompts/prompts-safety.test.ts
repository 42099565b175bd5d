/**
 * The prompt-injection check measured on a hand-written corpus of benign and malicious inputs
 * (safety-corpus.json). Prints precision and recall; fails when either drops below its floor, so
 * a pattern change that trades one for the other shows up here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scanText } from './prompts-fns.js';

const corpus = JSON.parse(fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'safety-corpus.json'), 'utf8')) as { benign: string[]; malicious: string[] };

describe('prompt-injection check on the corpus', () => {
  it('holds at least 40 benign and 40 malicious inputs', () => {
    expect(corpus.benign.length).toBeGreaterThanOrEqual(40);
    expect(corpus.malicious.length).toBeGreaterThanOrEqual(40);
  });

  it('keeps precision ≥ 0.9 and recall ≥ 0.85', () => {
    const falsePositives = corpus.benign.filter((s) => scanText(s).length > 0);
    const missed = corpus.malicious.filter((s) => scanText(s).length === 0);
    const tp = corpus.malicious.length - missed.length;
    const precision = tp / (tp + falsePositives.length);
    const recall = tp / corpus.malicious.length;
    console.log(
      [
        `prompt-injection check: ${corpus.benign.length} benign, ${corpus.malicious.length} malicious`,
        `  precision ${precision.toFixed(3)} (${falsePositives.length} false positives)  recall ${recall.toFixed(3)} (${missed.length} missed)`,
        ...falsePositives.map((s) => `  false positive: ${JSON.stringify(s)}`),
        ...missed.map((s) => `  missed: ${JSON.stringify(s)}`),
      ].join('\n'),
    );
    expect(precision).toBeGreaterThanOrEqual(0.9);
    expect(recall).toBeGreaterThanOrEqual(0.85);
  });
});
