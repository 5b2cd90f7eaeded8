//go:build unix && !linux

package gate

const mapPopulate = 0
