/** The digamma function psi(x) = d/dx ln Gamma(x), for x > 0 (what MACE's variational M-step needs). */
export function digamma(x: number): number {
  if (!(x > 0)) return x === 0 ? -Infinity : NaN;
  let result = 0;
  // psi(x) = psi(x + 1) - 1/x moves x up to where the asymptotic series is accurate to ~1e-16.
  while (x < 10) {
    result -= 1 / x;
    x += 1;
  }
  const inv2 = 1 / (x * x);
  // Bernoulli-number series: ln x - 1/2x - sum B_2n / (2n x^2n)
  const series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132 - inv2 * (691 / 32760 - inv2 / 12))))));
  return result + Math.log(x) - 0.5 / x - series;
}

/** ln(1 + e^x), linear above `limit` and 0 below -limit (crowd-kit GLAD's cut-offs) */
export function softplus(x: number, limit = 30): number {
  if (x > limit) return x;
  if (x < -limit) return 0;
  return Math.log1p(Math.exp(x));
}

/** the logistic function 1 / (1 + e^-x) (the form scipy's expit evaluates) */
export function expit(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** ln of the standard normal density, through the density itself so it underflows to -Infinity where the reference does */
export function logNormalDensity(x: number): number {
  return Math.log(Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI));
}
