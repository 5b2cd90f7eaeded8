package webhooks

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus series.
type metrics struct {
	decisions        *prometheus.CounterVec   // surface, outcome
	evalSeconds      *prometheus.HistogramVec // surface
	requests         *prometheus.CounterVec   // handler, code
	requestSeconds   *prometheus.HistogramVec // handler
	callbackFailures *prometheus.CounterVec   // reason
	callbacks        prometheus.Counter
	decisionLogErrs  prometheus.Counter
	panics           prometheus.Counter
	reloads          *prometheus.CounterVec // result
	costQuerySeconds prometheus.Histogram
	runTasksInFlight prometheus.Gauge
	evalWaiting      prometheus.Gauge
	evalRefused      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "costgate_decisions_total", Help: "Decisions made, by surface (api, runtask, admission) and outcome (allow, warn, deny, error).",
		}, []string{"surface", "outcome"}),
		evalSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "costgate_evaluation_duration_seconds", Help: "Time to build the input and evaluate the policies, by surface.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"surface"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "costgate_http_requests_total", Help: "HTTP requests by handler and status code.",
		}, []string{"handler", "code"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "costgate_http_request_duration_seconds",
			Help:    "Time from a request's headers being read to its handler returning (body read, evaluation, response written), by handler.",
			Buckets: []float64{.0005, .001, .002, .003, .005, .0075, .01, .015, .02, .03, .05, .075, .1, .15, .2, .3, .5, 1, 2.5, 5, 10},
		}, []string{"handler"}),
		callbackFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "costgate_runtask_callback_failures_total", Help: "Run task callbacks (PATCH to HCP Terraform) that failed, by reason; retries count once each.",
		}, []string{"reason"}),
		callbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "costgate_runtask_callbacks_total", Help: "Run task callbacks delivered.",
		}),
		decisionLogErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "costgate_decision_log_errors_total", Help: "Decisions that could not be written to the decision log.",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "costgate_http_panics_total", Help: "Requests whose handler panicked (answered 500).",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "costgate_policy_reloads_total", Help: "Policy reloads by result (ok, rejected).",
		}, []string{"result"}),
		costQuerySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "costgate_cost_query_duration_seconds", Help: "Latency of cost store queries (GET /v1/cost).",
			Buckets: prometheus.DefBuckets,
		}),
		evalWaiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "costgate_evaluations_waiting", Help: "Requests waiting for an evaluation slot (server.max_concurrent_evaluations).",
		}),
		evalRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "costgate_evaluations_refused_total", Help: "Requests answered 503 because no evaluation slot freed within server.queue_timeout.",
		}),
		runTasksInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "costgate_runtasks_in_flight", Help: "Run tasks accepted and not yet reported back.",
		}),
	}
	// Series exist from the start, at zero, so dashboards and alerts see them.
	for _, surface := range []string{SurfaceAPI, SurfaceRunTask, SurfaceAdmission} {
		for _, outcome := range []string{"allow", "warn", "deny", "error"} {
			m.decisions.WithLabelValues(surface, outcome)
		}
		m.evalSeconds.WithLabelValues(surface)
	}
	m.callbackFailures.WithLabelValues("network")
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("rejected")
	reg.MustRegister(m.decisions, m.evalSeconds, m.requests, m.requestSeconds, m.callbackFailures, m.callbacks, m.decisionLogErrs,
		m.panics, m.reloads, m.costQuerySeconds, m.runTasksInFlight, m.evalWaiting, m.evalRefused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
