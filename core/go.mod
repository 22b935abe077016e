module github.com/deskbridge/deskbridge/core

go 1.25
