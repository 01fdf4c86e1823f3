// Package cli is testrig's command line (cobra): list, run and their flags.
package cli
