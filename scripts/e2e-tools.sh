#!/usr/bin/env bash
# Builds the tools `make e2e` needs from source, once each, into a folder per
# version under ${COSTGATE_TOOLS:-~/.cache/costgate-tools} (outside the
# repository; nothing here is committed but this script). Safe to rerun: a
# tool whose binary exists is not rebuilt.
#
#   scripts/e2e-tools.sh [versitygw|bigquery-emulator|kube|all]
#
# Build times on a 2-core machine: versitygw a few minutes; the BigQuery
# emulator 35-45 minutes and ~7 GB of memory (it compiles ZetaSQL's C++ with
# clang through cgo); kube-apiserver and etcd 10-25 minutes.
set -euo pipefail
tools=${COSTGATE_TOOLS:-$HOME/.cache/costgate-tools}
say() { printf '=== %s\n' "$*" >&2; }

versitygw() {
	local dir=$tools/versitygw-v1.8.0
	[ -x "$dir/versitygw" ] && return
	say "building versitygw v1.8.0 into $dir"
	mkdir -p "$dir"
	GOBIN=$dir go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
}

# The emulator's module is built through a small wrapper module that requires
# it, so its own dependency versions are resolved as a main module would.
bigquery_emulator() {
	local v=v0.6.6 dir=$tools/bigquery-emulator-v0.6.6
	[ -x "$dir/bigquery-emulator" ] && return
	if ! command -v clang >/dev/null || ! command -v clang++ >/dev/null; then
		say "installing clang (the emulator's ZetaSQL is C++)"
		apt-get install -y clang >/dev/null
	fi
	say "building the BigQuery emulator $v into $dir (35-45 min, ~7 GB)"
	mkdir -p "$dir/src"
	cd "$dir/src"
	[ -f go.mod ] || go mod init costgate.local/bqemu >/dev/null 2>&1
	GOFLAGS=-mod=mod go get "github.com/goccy/bigquery-emulator@$v"
	GOFLAGS=-mod=mod CGO_ENABLED=1 CC=clang CXX=clang++ \
		go build -o "$dir/bigquery-emulator.tmp" github.com/goccy/bigquery-emulator/cmd/bigquery-emulator
	mv "$dir/bigquery-emulator.tmp" "$dir/bigquery-emulator"
}

# kube-apiserver from k8s.io/kubernetes and etcd from go.etcd.io/etcd's embed
# package: the two binaries controller-runtime's envtest starts.
# setup-envtest cannot download them here.
kube() {
	local kv=v1.37.2 ev=v3.7.3 dir=$tools/envtest-k8s-v1.37.2
	local minor=${kv#v1.}
	if [ ! -x "$dir/kube-apiserver" ]; then
		say "building kube-apiserver $kv into $dir"
		mkdir -p "$dir/src-apiserver"
		(
			cd "$dir/src-apiserver"
			# k8s.io/kubernetes pins its staging modules to v0.0.0 with
			# replace directives; a wrapper module repeats them.
			if [ ! -f go.mod ]; then
				go mod init costgate.local/kubeapiserver >/dev/null 2>&1
				go mod download -json "k8s.io/kubernetes@$kv" >kube.json
				local gomod
				gomod=$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' kube.json)
				grep -oE '^\s*k8s.io/[a-z0-9-]+ => ./staging/src/k8s.io/[a-z0-9-]+' "$gomod" |
					awk -v m="$minor" '{print "replace " $1 " => " $1 " v0." m}' >>go.mod
				echo "require k8s.io/kubernetes $kv" >>go.mod
			fi
			GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || true
			GOFLAGS=-mod=mod CGO_ENABLED=0 go build -o "$dir/kube-apiserver.tmp" \
				-ldflags "-X k8s.io/component-base/version.gitVersion=$kv -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor%%.*}" \
				k8s.io/kubernetes/cmd/kube-apiserver
		)
		mv "$dir/kube-apiserver.tmp" "$dir/kube-apiserver"
	fi
	if [ ! -x "$dir/etcd" ]; then
		say "building etcd $ev (embed) into $dir"
		mkdir -p "$dir/src-etcd"
		(
			cd "$dir/src-etcd"
			[ -f go.mod ] || go mod init costgate.local/etcd >/dev/null 2>&1
			cat >main.go <<'GO'
// etcd for envtest: a small main around go.etcd.io/etcd/server/v3/embed that
// accepts the flags envtest passes (--data-dir, --listen-client-urls,
// --advertise-client-urls, --listen-peer-urls, --unsafe-no-fsync).
package main

import (
	"flag"
	"log"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"go.etcd.io/etcd/server/v3/embed"
)

func urls(s string) []url.URL {
	var out []url.URL
	for _, p := range strings.Split(s, ",") {
		if p == "" {
			continue
		}
		u, err := url.Parse(p)
		if err != nil {
			log.Fatalf("url %q: %v", p, err)
		}
		out = append(out, *u)
	}
	return out
}

func main() {
	cfg := embed.NewConfig()
	dataDir := flag.String("data-dir", "default.etcd", "")
	lc := flag.String("listen-client-urls", "http://127.0.0.1:2379", "")
	ac := flag.String("advertise-client-urls", "", "")
	lp := flag.String("listen-peer-urls", "http://127.0.0.1:0", "")
	noFsync := flag.Bool("unsafe-no-fsync", false, "")
	flag.String("name", "default", "")
	flag.String("initial-cluster", "", "")
	flag.String("initial-advertise-peer-urls", "", "")
	flag.Parse()
	cfg.Dir = *dataDir
	cfg.ListenClientUrls = urls(*lc)
	if *ac == "" {
		*ac = *lc
	}
	cfg.AdvertiseClientUrls = urls(*ac)
	cfg.ListenPeerUrls = urls(*lp)
	cfg.AdvertisePeerUrls = []url.URL{{Scheme: "http", Host: "localhost:2380"}}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.UnsafeNoFsync = *noFsync
	cfg.LogLevel = "error"
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	<-e.Server.ReadyNotify()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case err := <-e.Err():
		log.Fatal(err)
	case <-sig:
	}
}
GO
			GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@$ev"
			GOFLAGS=-mod=mod go mod tidy
			CGO_ENABLED=0 go build -o "$dir/etcd.tmp" .
		)
		mv "$dir/etcd.tmp" "$dir/etcd"
	fi
}

case "${1:-all}" in
versitygw) versitygw ;;
bigquery-emulator) bigquery_emulator ;;
kube) kube ;;
all)
	versitygw
	bigquery_emulator
	kube
	;;
*)
	echo "usage: $0 [versitygw|bigquery-emulator|kube|all]" >&2
	exit 2
	;;
esac
