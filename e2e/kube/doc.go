// Package kube is costgate's end-to-end test against a real Kubernetes API
// server: controller-runtime's envtest runs kube-apiserver and etcd built
// from source (scripts/e2e-tools.sh kube), `costgate serve` answers
// admission over TLS, and the shipped ValidatingWebhookConfiguration
// (docs/kubernetes/validating-webhook.yaml) connects the two.
//
// It is a separate module so that the Kubernetes client libraries stay out
// of costgate's go.mod, and its test only builds with the e2e tag:
//
//	make build
//	cd e2e/kube && COSTGATE_BIN=$PWD/../../bin/costgate go test -tags e2e -count=1 -v ./...
//
// `make e2e` does both (scripts/e2e.sh). COSTGATE_TOOLS (default
// ~/.cache/costgate-tools) or KUBEBUILDER_ASSETS says where the binaries
// are; the test fails, not skips, when they are missing.
package kube
