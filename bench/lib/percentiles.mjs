// Percentiles of a list of milliseconds, and their display in microseconds.
const sorted = (xs) => [...xs].sort((a, b) => a - b);

export const p50 = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
export const p99 = (xs) => sorted(xs)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))];
export const us = (ms) => `${Math.round(ms * 1000)} µs`;
