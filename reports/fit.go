package reports

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// PowerFit is a least-squares fit of ln y = ln a + k·ln n, i.e. y ≈ a·n^k.
type PowerFit struct {
	// Exponent is k.
	Exponent float64 `json:"exponent"`
	// ExponentCI is the 95% confidence interval of k (Student t with m-2
	// degrees of freedom times the standard error of the slope).
	ExponentCI [2]float64 `json:"exponent_ci"`
	// StdErr is the standard error of k.
	StdErr float64 `json:"exponent_stderr"`
	// Coefficient is a.
	Coefficient float64 `json:"coefficient"`
	// R2 is the coefficient of determination of the log-log fit.
	R2 float64 `json:"r2"`
	// Points is the number of (n, y) pairs fitted.
	Points int `json:"points"`
}

// At evaluates the fitted a·n^k.
func (f PowerFit) At(n float64) float64 { return f.Coefficient * math.Pow(n, f.Exponent) }

// FitPower fits y ≈ a·n^k by least squares on (ln n, ln y) with
// gonum/stat.LinearRegression. It needs at least 3 points with n > 0 and
// y > 0 and two distinct n.
func FitPower(n, y []float64) (PowerFit, error) {
	if len(n) != len(y) {
		return PowerFit{}, fmt.Errorf("fit: %d values of n but %d values of y", len(n), len(y))
	}
	if len(n) < 3 {
		return PowerFit{}, fmt.Errorf("fit: %d points; at least 3 are needed for an exponent with a confidence interval", len(n))
	}
	lx, ly := make([]float64, len(n)), make([]float64, len(n))
	for i := range n {
		if !(n[i] > 0) || !(y[i] > 0) || math.IsInf(n[i], 0) || math.IsInf(y[i], 0) {
			return PowerFit{}, fmt.Errorf("fit: point %d (n=%v, y=%v) must be positive and finite for a log-log fit", i, n[i], y[i])
		}
		lx[i], ly[i] = math.Log(n[i]), math.Log(y[i])
	}
	alpha, beta := stat.LinearRegression(lx, ly, nil, false)
	mx := stat.Mean(lx, nil)
	var sxx, sse float64
	for i := range lx {
		sxx += (lx[i] - mx) * (lx[i] - mx)
		r := ly[i] - (alpha + beta*lx[i])
		sse += r * r
	}
	if sxx == 0 {
		return PowerFit{}, fmt.Errorf("fit: all points have the same n")
	}
	df := len(lx) - 2
	se := math.Sqrt(sse / float64(df) / sxx)
	half := tQuantile975(df) * se
	r2 := stat.RSquared(lx, ly, nil, alpha, beta)
	if math.IsNaN(r2) { // y constant: a perfect horizontal fit
		r2 = 1
	}
	return PowerFit{
		Exponent: beta, ExponentCI: [2]float64{beta - half, beta + half}, StdErr: se,
		Coefficient: math.Exp(alpha), R2: r2, Points: len(lx),
	}, nil
}

// QuadFit is a least-squares fit y ≈ A·n² + B·n + C.
type QuadFit struct {
	A  float64 `json:"a"`
	B  float64 `json:"b"`
	C  float64 `json:"c"`
	R2 float64 `json:"r2"`
}

// At evaluates the fitted polynomial.
func (q QuadFit) At(n float64) float64 { return q.A*n*n + q.B*n + q.C }

// FitQuadratic fits y ≈ A·n² + B·n + C by least squares (QR via gonum/mat).
// It needs at least 3 distinct n.
func FitQuadratic(n, y []float64) (QuadFit, error) {
	if len(n) != len(y) {
		return QuadFit{}, fmt.Errorf("quadratic fit: %d values of n but %d values of y", len(n), len(y))
	}
	distinct := map[float64]bool{}
	for _, v := range n {
		distinct[v] = true
	}
	if len(distinct) < 3 {
		return QuadFit{}, fmt.Errorf("quadratic fit: %d distinct n; at least 3 are needed", len(distinct))
	}
	m := len(n)
	x := mat.NewDense(m, 3, nil)
	for i, v := range n {
		x.Set(i, 0, v*v)
		x.Set(i, 1, v)
		x.Set(i, 2, 1)
	}
	var coef mat.VecDense
	if err := coef.SolveVec(x, mat.NewVecDense(m, append([]float64(nil), y...))); err != nil {
		return QuadFit{}, fmt.Errorf("quadratic fit: %w", err)
	}
	q := QuadFit{A: coef.AtVec(0), B: coef.AtVec(1), C: coef.AtVec(2)}
	est := make([]float64, m)
	for i, v := range n {
		est[i] = q.At(v)
	}
	q.R2 = stat.RSquaredFrom(est, y, nil)
	if math.IsNaN(q.R2) {
		q.R2 = 1
	}
	return q, nil
}
