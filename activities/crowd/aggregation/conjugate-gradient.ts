/**
 * Nonlinear conjugate gradient (Polak-Ribiere+, with Gilbert & Nocedal's sufficient-descent
 * check) and the Moré-Thuente line search (MINPACK-2 dcsrch/dcstep) that enforces the strong
 * Wolfe conditions, falling back to Nocedal & Wright's bracketing line search. This is the
 * minimiser crowd-kit's GLAD uses through scipy.optimize.minimize (method "CG"), with the same
 * defaults (c1 = 1e-4, c2 = 0.4, infinity-norm gradient test, the same first trial step), so
 * GLAD's M-step takes the same steps.
 */

export interface CgOptions {
  /** stop when the largest gradient component is at most this */
  gtol: number;
  maxIter: number;
  c1?: number;
  c2?: number;
}

export interface CgResult {
  x: Float64Array;
  fun: number;
  iterations: number;
  /** why it stopped */
  status: 'converged' | 'max-iterations' | 'line-search-failed';
}

type Objective = (x: Float64Array) => number;
type Gradient = (x: Float64Array) => Float64Array;

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};
const axpy = (x: Float64Array, alpha: number, p: Float64Array) => x.map((v, i) => v + alpha * p[i]!);

export function minimizeConjugateGradient(f: Objective, grad: Gradient, x0: Float64Array, options: CgOptions): CgResult {
  const c1 = options.c1 ?? 1e-4;
  const c2 = options.c2 ?? 0.4;
  const sigma3 = 0.01;
  let x = Float64Array.from(x0);
  let fx = f(x);
  let g = grad(x);
  // The first trial step is chosen so that the step is about 1 in size (scipy's convention).
  let previousF = fx + Math.sqrt(dot(g, g)) / 2;
  let p = g.map((v) => -v);
  let gnorm = maxAbs(g);
  let k = 0;
  while (gnorm > options.gtol && k < options.maxIter) {
    const gg = dot(g, g);
    // The next direction for a trial step, as Polak-Ribiere+ would take it.
    const nextDirection = (gNew: Float64Array) => {
      const y = gNew.map((v, i) => v - g[i]!);
      const betaK = Math.max(0, dot(y, gNew) / gg);
      return gNew.map((v, i) => -v + betaK * p[i]!);
    };
    const search = lineSearch(f, grad, x, p, fx, dot(g, p), previousF, c1, c2, (alpha, gNew) => {
      if (maxAbs(gNew) <= options.gtol) return true;
      return dot(nextDirection(gNew), gNew) <= -sigma3 * dot(gNew, gNew);
    });
    if (!search) return { x, fun: fx, iterations: k, status: 'line-search-failed' };
    previousF = fx;
    fx = search.f;
    x = axpy(x, search.alpha, p);
    p = nextDirection(search.g);
    g = search.g;
    gnorm = maxAbs(g);
    k++;
  }
  // Like scipy, running out of iterations is reported even when the last one also converged.
  return { x, fun: fx, iterations: k, status: k >= options.maxIter ? 'max-iterations' : 'converged' };
}

interface LineSearchPoint {
  alpha: number;
  f: number;
  g: Float64Array;
}

/**
 * Strong-Wolfe line search along p from x (f0 = f(x), d0 = grad(x)·p < 0) with `accept` as an
 * extra condition on the step: first Moré & Thuente (1994); if that fails or its step is not
 * accepted, the bracketing-and-zoom search of Nocedal & Wright (Algorithms 3.5 and 3.6), as scipy
 * does. Returns null when both fail.
 */
function lineSearch(
  f: Objective,
  grad: Gradient,
  x: Float64Array,
  p: Float64Array,
  f0: number,
  d0: number,
  previousF: number,
  c1: number,
  c2: number,
  accept: (alpha: number, g: Float64Array) => boolean,
): LineSearchPoint | null {
  let alpha = 1;
  if (d0 !== 0) {
    alpha = Math.min(1, (1.01 * 2 * (f0 - previousF)) / d0);
    if (alpha < 0) alpha = 1;
  }
  // The gradient at the last step evaluated, and that step.
  let lastG: Float64Array = new Float64Array(0);
  let lastGAlpha = NaN;
  const phi = (a: number) => f(axpy(x, a, p));
  const derphi = (a: number) => {
    lastG = grad(axpy(x, a, p));
    lastGAlpha = a;
    return dot(lastG, p);
  };
  const found = moreThuente((a) => [phi(a), derphi(a)], alpha, f0, d0, { ftol: c1, gtol: c2, xtol: 1e-14, stpmin: 1e-100, stpmax: 1e100, maxIter: 100 });
  if (found !== null && accept(found.alpha, lastG)) return { alpha: found.alpha, f: found.f, g: lastG };
  const gradientAt = (a: number) => {
    if (lastGAlpha !== a) derphi(a);
    return lastG;
  };
  const fallback = bracketAndZoom({ phi, derphi, phi0: f0, derphi0: d0, c1, c2, accept: (a) => accept(a, gradientAt(a)) }, alpha, 1e100);
  if (fallback === null) return null;
  return { alpha: fallback.alpha, f: fallback.f, g: gradientAt(fallback.alpha) };
}

/** A one-dimensional strong-Wolfe problem: phi(a) = f(x + a p), its slope, and an extra acceptance test. */
interface ScalarSearch {
  phi: (a: number) => number;
  derphi: (a: number) => number;
  phi0: number;
  derphi0: number;
  c1: number;
  c2: number;
  accept: (a: number) => boolean;
}

/** Nocedal & Wright's line search: expand the step until a bracket is found, then zoom in it. */
function bracketAndZoom(search: ScalarSearch, alpha1: number, amax: number, maxIter = 10): { alpha: number; f: number } | null {
  const { phi, derphi, phi0, derphi0, c1, c2, accept } = search;
  let alpha0 = 0;
  alpha1 = Math.min(alpha1, amax);
  let phiA1 = phi(alpha1);
  let phiA0 = phi0;
  let derphiA0 = derphi0;
  for (let i = 0; i < maxIter; i++) {
    if (alpha1 === 0 || alpha0 > amax) return null;
    if (phiA1 > phi0 + c1 * alpha1 * derphi0 || (phiA1 >= phiA0 && i > 0)) {
      return zoom(search, alpha0, alpha1, phiA0, phiA1, derphiA0);
    }
    const derphiA1 = derphi(alpha1);
    if (Math.abs(derphiA1) <= -c2 * derphi0 && accept(alpha1)) return { alpha: alpha1, f: phiA1 };
    if (derphiA1 >= 0) return zoom(search, alpha1, alpha0, phiA1, phiA0, derphiA1);
    alpha0 = alpha1;
    alpha1 = Math.min(2 * alpha1, amax);
    phiA0 = phiA1;
    phiA1 = phi(alpha1);
    derphiA0 = derphiA1;
  }
  // Out of iterations: scipy takes the last step tried (with a warning).
  return { alpha: alpha1, f: phiA1 };
}

/** Minimiser of the cubic through (a, fa) with slope fpa at a, (b, fb) and (c, fc); null if none. */
function cubicMinimizer(a: number, fa: number, fpa: number, b: number, fb: number, c: number, fc: number): number | null {
  const db = b - a;
  const dc = c - a;
  const denom = (db * dc) ** 2 * (db - dc);
  const rb = fb - fa - fpa * db;
  const rc = fc - fa - fpa * dc;
  const A = (dc ** 2 * rb - db ** 2 * rc) / denom;
  const B = (-(dc ** 3) * rb + db ** 3 * rc) / denom;
  const xmin = a + (-B + Math.sqrt(B * B - 3 * A * fpa)) / (3 * A);
  return Number.isFinite(xmin) ? xmin : null;
}

/** Minimiser of the quadratic through (a, fa) with slope fpa at a and (b, fb); null if none. */
function quadraticMinimizer(a: number, fa: number, fpa: number, b: number, fb: number): number | null {
  const db = b - a;
  const B = (fb - fa - fpa * db) / (db * db);
  const xmin = a - fpa / (2 * B);
  return Number.isFinite(xmin) ? xmin : null;
}

/** Shrinks the bracket [aLo, aHi] (aLo: the better end, with its slope) until a step passes. */
function zoom(search: ScalarSearch, aLo: number, aHi: number, phiLo: number, phiHi: number, derphiLo: number): { alpha: number; f: number } | null {
  const { phi, derphi, phi0, derphi0, c1, c2, accept } = search;
  let phiRec = phi0;
  let aRec = 0;
  for (let i = 0; i <= 10; i++) {
    const dalpha = aHi - aLo;
    const [a, b] = dalpha < 0 ? [aHi, aLo] : [aLo, aHi];
    // Cubic interpolation through the last three points, else quadratic, else bisection, each
    // only if it lands safely inside the interval.
    let aj: number | null = null;
    if (i > 0) {
      const cchk = 0.2 * dalpha;
      aj = cubicMinimizer(aLo, phiLo, derphiLo, aHi, phiHi, aRec, phiRec);
      if (aj !== null && (aj > b - cchk || aj < a + cchk)) aj = null;
    }
    if (aj === null) {
      const qchk = 0.1 * dalpha;
      aj = quadraticMinimizer(aLo, phiLo, derphiLo, aHi, phiHi);
      if (aj === null || aj > b - qchk || aj < a + qchk) aj = aLo + 0.5 * dalpha;
    }
    const phiAj = phi(aj);
    if (phiAj > phi0 + c1 * aj * derphi0 || phiAj >= phiLo) {
      phiRec = phiHi;
      aRec = aHi;
      aHi = aj;
      phiHi = phiAj;
      continue;
    }
    const derphiAj = derphi(aj);
    if (Math.abs(derphiAj) <= -c2 * derphi0 && accept(aj)) return { alpha: aj, f: phiAj };
    if (derphiAj * (aHi - aLo) >= 0) {
      phiRec = phiHi;
      aRec = aHi;
      aHi = aLo;
      phiHi = phiLo;
    } else {
      phiRec = phiLo;
      aRec = aLo;
    }
    aLo = aj;
    phiLo = phiAj;
    derphiLo = derphiAj;
  }
  return null;
}

interface MoreThuenteOptions {
  ftol: number;
  gtol: number;
  xtol: number;
  stpmin: number;
  stpmax: number;
  maxIter: number;
}

/** The step satisfying f(a) <= f0 + ftol·a·d0 and |d(a)| <= gtol·|d0|, or null (warnings count as failure). */
function moreThuente(phi: (a: number) => [number, number], stp: number, finit: number, ginit: number, o: MoreThuenteOptions): { alpha: number; f: number } | null {
  if (stp < o.stpmin || stp > o.stpmax || ginit >= 0) return null;
  const xtrapl = 1.1;
  const xtrapu = 4;
  let brackt = false;
  let stage = 1;
  const gtest = o.ftol * ginit;
  let width = o.stpmax - o.stpmin;
  let width1 = width / 0.5;
  // x: best step so far; y: the other end of the interval of uncertainty.
  const s: StepState = { stx: 0, fx: finit, gx: ginit, sty: 0, fy: finit, gy: ginit, brackt: false };
  let stmin = 0;
  let stmax = stp + xtrapu * stp;
  for (let i = 0; i < o.maxIter; i++) {
    const [f, g] = phi(stp);
    const ftest = finit + stp * gtest;
    if (stage === 1 && f <= ftest && g >= 0) stage = 2;
    // Warnings (rounding errors, xtol, step at a bound) end the search as failures, as in scipy.
    if (brackt && (stp <= stmin || stp >= stmax)) return null;
    if (brackt && stmax - stmin <= o.xtol * stmax) return null;
    if (stp === o.stpmax && f <= ftest && g <= gtest) return null;
    if (stp === o.stpmin && (f > ftest || g >= gtest)) return null;
    if (f <= ftest && Math.abs(g) <= o.gtol * -ginit) return { alpha: stp, f };

    s.brackt = brackt;
    if (stage === 1 && f <= s.fx && f > ftest) {
      // In the first stage work on the modified function psi(a) = phi(a) - a·gtest.
      const modified: StepState = { ...s, fx: s.fx - s.stx * gtest, gx: s.gx - gtest, fy: s.fy - s.sty * gtest, gy: s.gy - gtest };
      stp = trialStep(modified, stp, f - stp * gtest, g - gtest, stmin, stmax);
      Object.assign(s, modified, { fx: modified.fx + modified.stx * gtest, fy: modified.fy + modified.sty * gtest, gx: modified.gx + gtest, gy: modified.gy + gtest });
    } else {
      stp = trialStep(s, stp, f, g, stmin, stmax);
    }
    brackt = s.brackt;
    if (brackt) {
      // Bisect when the interval did not shrink enough over the last two steps.
      if (Math.abs(s.sty - s.stx) >= 0.66 * width1) stp = s.stx + 0.5 * (s.sty - s.stx);
      width1 = width;
      width = Math.abs(s.sty - s.stx);
      stmin = Math.min(s.stx, s.sty);
      stmax = Math.max(s.stx, s.sty);
    } else {
      stmin = stp + xtrapl * (stp - s.stx);
      stmax = stp + xtrapu * (stp - s.stx);
    }
    stp = Math.min(Math.max(stp, o.stpmin), o.stpmax);
    if ((brackt && (stp <= stmin || stp >= stmax)) || (brackt && stmax - stmin <= o.xtol * stmax)) stp = s.stx;
    if (!Number.isFinite(stp)) return null;
  }
  return null;
}

interface StepState {
  stx: number;
  fx: number;
  gx: number;
  sty: number;
  fy: number;
  gy: number;
  brackt: boolean;
}

/**
 * dcstep: a safeguarded cubic/quadratic interpolation step from the interval end points (stx,
 * sty) and the trial step stp; updates the interval in `s` and returns the next trial step.
 */
function trialStep(s: StepState, stp: number, fp: number, dp: number, stpmin: number, stpmax: number): number {
  const { stx, fx, gx: dx, sty, fy, gy: dy } = s;
  const sgnd = Math.sign(dp) * Math.sign(dx);
  const cubicGamma = (theta: number, a: number, b: number, clampAtZero: boolean) => {
    const scale = Math.max(Math.abs(theta), Math.abs(a), Math.abs(b));
    const radicand = (theta / scale) ** 2 - (a / scale) * (b / scale);
    return scale * Math.sqrt(clampAtZero ? Math.max(0, radicand) : radicand);
  };
  let stpf: number;
  if (fp > fx) {
    // Higher function value: the minimum is bracketed; take the cubic step or a blend with the quadratic.
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    let gamma = cubicGamma(theta, dx, dp, false);
    if (stp < stx) gamma = -gamma;
    const r = (gamma - dx + theta) / (gamma - dx + gamma + dp);
    const stpc = stx + r * (stp - stx);
    const stpq = stx + (dx / ((fx - fp) / (stp - stx) + dx) / 2) * (stp - stx);
    stpf = Math.abs(stpc - stx) <= Math.abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2;
    s.brackt = true;
  } else if (sgnd < 0) {
    // Derivatives of opposite sign: bracketed; the step farther from stp of cubic and secant.
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    let gamma = cubicGamma(theta, dx, dp, false);
    if (stp > stx) gamma = -gamma;
    const r = (gamma - dp + theta) / (gamma - dp + gamma + dx);
    const stpc = stp + r * (stx - stp);
    const stpq = stp + (dp / (dp - dx)) * (stx - stp);
    stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
    s.brackt = true;
  } else if (Math.abs(dp) < Math.abs(dx)) {
    // Same sign, derivative magnitude decreasing: cubic step if it heads the right way, else the bound.
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    let gamma = cubicGamma(theta, dx, dp, true);
    if (stp > stx) gamma = -gamma;
    const r = (gamma - dp + theta) / (gamma + (dx - dp) + gamma);
    const stpc = r < 0 && gamma !== 0 ? stp + r * (stx - stp) : stp > stx ? stpmax : stpmin;
    const stpq = stp + (dp / (dp - dx)) * (stx - stp);
    if (s.brackt) {
      stpf = Math.abs(stpc - stp) < Math.abs(stpq - stp) ? stpc : stpq;
      stpf = stp > stx ? Math.min(stp + 0.66 * (sty - stp), stpf) : Math.max(stp + 0.66 * (sty - stp), stpf);
    } else {
      stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
      stpf = Math.min(Math.max(stpf, stpmin), stpmax);
    }
  } else if (s.brackt) {
    // Same sign, derivative not decreasing, bracketed: cubic step from the other end.
    const theta = (3 * (fp - fy)) / (sty - stp) + dy + dp;
    let gamma = cubicGamma(theta, dy, dp, false);
    if (stp > sty) gamma = -gamma;
    const r = (gamma - dp + theta) / (gamma - dp + gamma + dy);
    stpf = stp + r * (sty - stp);
  } else {
    stpf = stp > stx ? stpmax : stpmin;
  }
  if (fp > fx) {
    s.sty = stp;
    s.fy = fp;
    s.gy = dp;
  } else {
    if (sgnd < 0) {
      s.sty = stx;
      s.fy = fx;
      s.gy = dx;
    }
    s.stx = stp;
    s.fx = fp;
    s.gx = dp;
  }
  return stpf;
}
