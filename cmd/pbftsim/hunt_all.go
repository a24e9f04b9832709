package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/properties"
)

// huntAll runs `hunt --all`: every variant in turn, one row each.
func huntAll(cmd *cobra.Command, o experiment.HuntOptions, asJSON bool) error {
	stderr := cmd.ErrOrStderr()
	o.Progress = func(r properties.HuntRow) {
		if r.Found {
			fmt.Fprintf(stderr, "  %s: %s after %d cases (%.1fs, %.1f CPU-s)\n", r.Variant, r.Property, r.Cases, r.Seconds, r.CPUSeconds)
		} else {
			fmt.Fprintf(stderr, "  %s: not found in %d cases (%.1fs, %.1f CPU-s)\n", r.Variant, r.Cases, r.Seconds, r.CPUSeconds)
		}
	}
	h, err := experiment.NewHuntAll(o)
	if err != nil {
		return exitStatus(err)
	}
	mode := "targeted"
	if o.Generic {
		mode = "generic"
	}
	proto := o.Protocol
	if proto == "" {
		proto = "pbft"
	}
	fmt.Fprintf(stderr, "hunting %d %s variants, %v each (seed %d, %s search)...\n", len(h.Variants()), proto, o.Budget, o.Seed, mode)
	rows, err := h.Run(commandContext(cmd))
	if rows == nil {
		return exitStatus(err)
	}
	w := cmd.OutOrStdout()
	if asJSON {
		if jerr := printJSON(w, rows); jerr != nil {
			return &exitError{code: 1, err: jerr}
		}
	} else {
		writeHuntTable(w, rows)
	}
	return exitStatus(err)
}

// writeHuntTable prints the hunt rows as an aligned table (with the
// guided search's columns when it ran).
func writeHuntTable(w io.Writer, rows []properties.HuntRow) {
	guided := false
	for _, r := range rows {
		guided = guided || r.GuidedCases > 0
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "variant\tfound\tcases\tseconds\tcpu seconds\tproperty\tn\tfaulty\trequests\trecords"
	if guided {
		head += "\tguided found\tguided cases\tguided seconds"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		if !r.Found {
			fmt.Fprintf(tw, "%s\tno\t%d\t%.1f\t%.1f\t-\t-\t-\t-\t-", r.Variant, r.Cases, r.Seconds, r.CPUSeconds)
		} else {
			fmt.Fprintf(tw, "%s\tyes\t%d\t%.2f\t%.2f\t%s\t%d\t%d\t%d\t%d", r.Variant, r.Cases, r.Seconds, r.CPUSeconds, r.Property, r.N, r.Faulty, r.Requests, r.TraceRecords)
		}
		if guided {
			fmt.Fprintf(tw, "\t%s\t%d\t%.2f", map[bool]string{true: "yes", false: "no"}[r.GuidedFound], r.GuidedCases, r.GuidedSeconds)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}
