//go:build tools

package main
import (
 _ "github.com/spf13/cobra"
 _ "github.com/leanovate/gopter"
 _ "gonum.org/v1/gonum/stat"
 _ "gonum.org/v1/plot"
 _ "github.com/anishathalye/porcupine"
 _ "go.yaml.in/yaml/v3"
)

