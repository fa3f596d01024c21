//go:build tools

// The program this module exists to build (the etcd module's root is package main).
package tools

import _ "go.etcd.io/etcd/server/v3"
