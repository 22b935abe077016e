module github.com/deskbridge/deskbridge/stores/redis

go 1.25

replace github.com/deskbridge/deskbridge/core => ../../core
