//go:build unix && !linux

package store

func adviseHuge([]byte) {}

func dropMapped([]byte) {}
