module github.com/deskbridge/deskbridge/stores/bolt

go 1.25.0

replace github.com/deskbridge/deskbridge/core => ../../core

require (
	github.com/deskbridge/deskbridge/core v0.0.0
	go.etcd.io/bbolt v1.5.0
	go.uber.org/goleak v1.3.0
)

require golang.org/x/sys v0.45.0 // indirect
