package costgate

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMemTotal(t *testing.T) {
	m := MemTotal()
	if _, err := os.Stat("/proc/meminfo"); err != nil {
		if m != 0 {
			t.Errorf("MemTotal %d without /proc/meminfo", m)
		}
		return
	}
	if m < 64<<20 {
		t.Errorf("MemTotal read as %d bytes", m)
	}
	l := MemLimit()
	if l <= 0 || l > m {
		t.Errorf("MemLimit %d, MemTotal %d: want 0 < limit <= total", l, m)
	}
	if got := ShareOfMemory(1<<62, 4); got != l/4 {
		t.Errorf("ShareOfMemory(huge, 4) = %d, want %d", got, l/4)
	}
	if c := CgroupMemLimit(); c < 0 || (c > 0 && l > c) {
		t.Errorf("CgroupMemLimit %d, MemLimit %d", c, l)
	}
	if got := ShareOfMemory(1<<20, 4); got != 1<<20 {
		t.Errorf("ShareOfMemory(1 MiB, 4) = %d", got)
	}
}

// TestMemLimitCgroups reads limits from file trees laid out like the
// kernel's: cgroup v2 (a container's namespace root and a nested group),
// v1, the hybrid layout (v2 mounted at /sys/fs/cgroup/unified) and the
// "no limit" spellings of both.
func TestMemLimitCgroups(t *testing.T) {
	const total = 8 << 30
	cases := []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"v2 namespace root", map[string]string{
			"proc/self/cgroup":         "0::/\n",
			"sys/fs/cgroup/memory.max": "2147483648\n",
		}, 2 << 30},
		{"v2 nested group", map[string]string{
			"proc/self/cgroup":                          "0::/kubepods/pod1/c1\n",
			"sys/fs/cgroup/kubepods/pod1/c1/memory.max": "536870912\n",
			"sys/fs/cgroup/memory.max":                  "max\n",
		}, 512 << 20},
		{"v2 group file missing: mount root", map[string]string{
			"proc/self/cgroup":         "0::/elsewhere\n",
			"sys/fs/cgroup/memory.max": "1073741824\n",
		}, 1 << 30},
		{"v2 unlimited", map[string]string{
			"proc/self/cgroup":         "0::/\n",
			"sys/fs/cgroup/memory.max": "max\n",
		}, total},
		{"v2 above the machine", map[string]string{
			"proc/self/cgroup":         "0::/\n",
			"sys/fs/cgroup/memory.max": "68719476736\n",
		}, total},
		{"v1", map[string]string{
			"proc/self/cgroup": "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n",
			"sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "3221225472\n",
		}, 3 << 30},
		{"v1 unlimited", map[string]string{
			"proc/self/cgroup":                           "4:memory:/\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
		}, total},
		{"hybrid: v1 memory unlimited, v2 unified limit", map[string]string{
			"proc/self/cgroup":                           "4:memory:/\n0::/svc\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
			"sys/fs/cgroup/unified/svc/memory.max":       "1073741824\n",
		}, 1 << 30},
		{"garbage", map[string]string{
			"proc/self/cgroup":         "0::/\n",
			"sys/fs/cgroup/memory.max": "lots\n",
		}, total},
		{"no cgroup file", map[string]string{}, total},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for name, body := range c.files {
				p := filepath.Join(root, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := readMemLimit(root, total); got != c.want {
				t.Errorf("limit %d, want %d", got, c.want)
			}
		})
	}
	if got := readMemLimit(t.TempDir(), 0); got != 0 {
		t.Errorf("nothing readable: %d, want 0", got)
	}
}
