import CellarCommands
import Foundation
import Testing
import Yams

/// deploy/drill-cronjob.yaml: what a cluster admin applies must be what docs/drill.md promises.
@Suite("Drill CronJob manifest")
struct DrillCronJobTests {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/drill-cronjob.yaml").path

    static func documents() throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }

    static func value(_ object: Any?, _ keys: String...) -> Any? {
        keys.reduce(object) { ($0 as? [String: Any])?[$1] }
    }

    @Test("a ServiceAccount with nothing extra: no Role, no binding, no API token")
    func serviceAccount() throws {
        let documents = try Self.documents()
        let kinds = documents.compactMap { $0["kind"] as? String }
        #expect(kinds.sorted() == ["CronJob", "ServiceAccount"])
        let account = try #require(documents.first { $0["kind"] as? String == "ServiceAccount" })
        #expect(account["automountServiceAccountToken"] as? Bool == false)
        let cronJob = try #require(documents.first { $0["kind"] as? String == "CronJob" })
        let pod = Self.value(cronJob, "spec", "jobTemplate", "spec", "template", "spec")
        #expect(Self.value(pod, "serviceAccountName") as? String == Self.value(account, "metadata", "name") as? String)
        #expect(Self.value(pod, "automountServiceAccountToken") as? Bool == false)
    }

    @Test("runs as non-root, read-only root file system, no privilege escalation, one drill at a time")
    func nonRoot() throws {
        let cronJob = try #require(try Self.documents().first { $0["kind"] as? String == "CronJob" })
        #expect(Self.value(cronJob, "spec", "concurrencyPolicy") as? String == "Forbid")
        let pod = Self.value(cronJob, "spec", "jobTemplate", "spec", "template", "spec")
        #expect(Self.value(pod, "securityContext", "runAsNonRoot") as? Bool == true)
        let uid = try #require(Self.value(pod, "securityContext", "runAsUser") as? Int)
        #expect(uid != 0)
        let containers = try #require(Self.value(pod, "containers") as? [[String: Any]])
        #expect(containers.count == 1)
        for container in containers {
            #expect(Self.value(container, "securityContext", "allowPrivilegeEscalation") as? Bool == false)
            #expect(Self.value(container, "securityContext", "readOnlyRootFilesystem") as? Bool == true)
            #expect(Self.value(container, "securityContext", "capabilities", "drop") as? [String] == ["ALL"])
        }
    }

    @Test("its pgcellar drill command parses, and writes its metrics file into the textfile collector's mounted directory")
    func command() throws {
        let cronJob = try #require(try Self.documents().first { $0["kind"] as? String == "CronJob" })
        let pod = Self.value(cronJob, "spec", "jobTemplate", "spec", "template", "spec")
        let container = try #require((Self.value(pod, "containers") as? [[String: Any]])?.first)
        let script = try #require((container["args"] as? [String])?.first)
        let command = script.replacingOccurrences(of: "\\\n", with: " ")
        let line = try #require(command.split(separator: "\n").first { $0.contains("exec pgcellar drill") })
        let server = try #require(line.firstMatch(of: /--server "([^"]+)"/)?.1)
        let metrics = try #require(line.firstMatch(of: /--metrics-file (\S+)/)?.1)
        let jobs = try #require(line.firstMatch(of: /-j (\d+)/)?.1)
        let parsed = try DrillCommand.parse(["/exports/x.sql.zst", "--server", String(server), "-j", String(jobs), "--metrics-file", String(metrics)])
        #expect(parsed.metricsFile == String(metrics))
        #expect(!server.contains("password"), "no password in the DSN: the pgpass file carries it")
        #expect(script.contains("PGPASSFILE="))
        let mounts = try #require(container["volumeMounts"] as? [[String: Any]])
        let directory = (String(metrics) as NSString).deletingLastPathComponent
        let mount = try #require(mounts.first { $0["mountPath"] as? String == directory }, "the metrics directory is a mounted volume")
        #expect(mount["readOnly"] as? Bool != true)
        let volumes = try #require(Self.value(pod, "volumes") as? [[String: Any]])
        let volume = try #require(volumes.first { $0["name"] as? String == mount["name"] as? String })
        #expect(Self.value(volume, "hostPath", "path") as? String == directory, "the node's textfile collector directory")
        let exports = try #require(volumes.first { $0["name"] as? String == "exports" })
        #expect(Self.value(exports, "persistentVolumeClaim", "readOnly") as? Bool == true)
    }
}
