import CoreMetrics
import Prometheus

/// The HTTP requests' metrics, which Hummingbird's `MetricsMiddleware` records through swift-metrics:
/// `parley_http_requests_total`, `parley_http_request_errors_total` and
/// `parley_http_request_duration_seconds` by `route`, `method` and `status`, and
/// `parley_http_active_requests` by `method`.
///
/// swift-metrics has one backend for the whole process, bootstrapped once, so these live in one
/// registry for the process (not one per server, like the rest of `ServerMetrics`), and every
/// server's `/metrics` shows it.
enum HTTPMetrics {
    /// The registry swift-metrics reports to; made, and swift-metrics bootstrapped to it, on first use.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            (metricName(name), labels.map { (labelName($0.0), $0.1) })
        }
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// Bootstraps swift-metrics to `registry` unless that is done.
    static func bootstrap() {
        _ = registry
    }

    /// Parley's name for a metric Hummingbird records; others get `_` for `.`.
    static func metricName(_ label: String) -> String {
        switch label {
        case "hb.requests": "parley_http_requests_total"
        case "hb.request.errors": "parley_http_request_errors_total"
        case "http.server.request.duration": "parley_http_request_duration_seconds"
        case "http.server.active_requests": "parley_http_active_requests"
        default: label.replacing(".", with: "_")
        }
    }

    /// Parley's name for a dimension Hummingbird records; others get `_` for `.`.
    static func labelName(_ dimension: String) -> String {
        switch dimension {
        case "http.route": "route"
        case "http.request.method": "method"
        case "http.response.status_code", "error.type": "status"
        default: dimension.replacing(".", with: "_")
        }
    }
}
