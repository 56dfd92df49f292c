"""klog/glog lines (Kubernetes components): levels, times, files and a fatal record's goroutine
dump. No Go toolchain here: the lines are kube-controller-manager's as klog v2 writes them
(its header: ``Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg``)."""

from __future__ import annotations

from logview.formats.detect import detect
from logview.sources.base import MemorySource
from logview.store import LogStore

_KLOG = """\
I1201 10:00:00.123456       1 serving.go:380] Generated self-signed cert in-memory
I1201 10:00:00.223456       1 shared_informer.go:311] Waiting for caches to sync for deployment
W1201 10:00:01.000001      12 reflector.go:539] k8s.io/client-go/informers/factory.go:160: failed to list *v1.Pod: connection refused
E1201 10:00:02.000002      12 controller.go:114] "Reconciler error" err="timeout" controller="deployment"
I1201 10:00:03.000003       1 leaderelection.go:250] attempting to acquire leader lease kube-system/kube-controller-manager...
F1201 10:00:04.000004       1 server.go:99] fatal error: could not bind
goroutine 1 [running]:
main.main()
\t/app/main.go:99 +0x1d
I1201 10:00:05.000005       1 main.go:42] restarted
"""


def test_klog_levels_times_and_files_are_read():
    # Before: inferred as '%(module)s %(asctime)s ...': no level at all, 'I1201' a module.
    data = _KLOG.encode()
    fmt = detect(data).format
    assert fmt.name == "klog"
    source = MemorySource("t", data)
    source.finish()
    store = LogStore(source, fmt)
    store.update(final=True)
    records = [store.record(i) for i in range(len(store))]
    assert [r.level for r in records] == ["INFO", "INFO", "WARNING", "ERROR", "INFO",
                                          "CRITICAL", "INFO"]
    assert records[2].logger == "reflector.go" and records[2].fields == {"line": 539, "thread": 12}
    assert records[2].message.startswith("k8s.io/client-go/informers/factory.go:160: failed")
    assert (records[0].time.month, records[0].time.day, records[0].time.microsecond) == (12, 1, 123456)
    assert records[5].message.endswith("main.main()\n\t/app/main.go:99 +0x1d")
    for line in _KLOG.splitlines():
        assert bool(fmt.start_pattern.match(line.encode())) == fmt.is_start(line), line
