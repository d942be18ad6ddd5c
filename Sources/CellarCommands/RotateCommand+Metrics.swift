import Cellar
import Foundation

/// `rotate --metrics-file`: one success and one failure time per role, with
/// `database` and `role` labels. A role left fresh (`--if-older-than`) keeps
/// the times the previous file had.
enum RotationMetrics {
    static func samples(_ results: [RoleRotationResult], database: String, at date: Date = Date()) -> [MetricSample] {
        results.compactMap { result in
            let labels = [("database", database), ("role", result.role)]
            switch result.outcome {
            case .rotated, .completedPending:
                return MetricSample("pgcellar_rotation_last_success_timestamp_seconds", labels: labels, date.timeIntervalSince1970.rounded())
            case .failed:
                return MetricSample("pgcellar_rotation_last_failure_timestamp_seconds", labels: labels, date.timeIntervalSince1970.rounded())
            case .fresh, .wouldRotate, .wouldCompletePending, .wouldSkip:
                return nil
            }
        }
    }

    /// A run that failed before any role's result (no connection, say): a
    /// failure for every role it was to rotate.
    static func failure(config: PgcellarConfig, roles: [String], at date: Date = Date()) -> [MetricSample] {
        let names = roles.isEmpty ? config.roles.filter(\.login).map(\.name) : roles
        return names.map {
            MetricSample("pgcellar_rotation_last_failure_timestamp_seconds",
                         labels: [("database", config.database.name), ("role", $0)], date.timeIntervalSince1970.rounded())
        }
    }
}
