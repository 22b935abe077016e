//go:build !unix

package storetest

import "time"

// processCPU is 0 where getrusage is not there: no CPU time per save.
func processCPU() time.Duration { return 0 }
