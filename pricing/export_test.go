package pricing

// WithoutMemo is opts pricing every resource itself (no shared estimates
// of value-free resources), for tests that compare the two.
func WithoutMemo(opts Options) Options {
	opts.noMemo = true
	return opts
}
