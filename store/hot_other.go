//go:build !unix

package store

func anonMap(size int) ([]byte, error) { return make([]byte, size), nil }

func anonUnmap([]byte) {}

func dropMapped([]byte) {}
