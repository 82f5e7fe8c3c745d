//go:build !go1.27

package main

// Before Go 1.27 methods cannot have type parameters of their own.
func spawnGenericMethods(*population) {}
