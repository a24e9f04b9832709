package sim

// SetSealChecks turns the immutability checks of k on or off (see msgSeals),
// whatever the build tags.
func SetSealChecks(k *Kernel, on bool) { k.seals.enabled = on }

// SetPrefetch turns k's prefetch on or off (see prefetcher).
func SetPrefetch(k *Kernel, on bool) { k.pf.off = !on }
