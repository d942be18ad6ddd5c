import Cellar
import CellarCommands
import Foundation
import Testing
import Yams

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// deploy/backup-cronjob.yaml, checked the way a reviewer would: what it
/// runs parses as pgcellar commands, its configuration loads, and it runs as
/// a non-root pod whose credentials come from Secrets.
@Suite("deploy/backup-cronjob.yaml")
struct BackupCronJobTests {
    let documents: [[String: Any]]

    init() throws {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("deploy/backup-cronjob.yaml"), encoding: .utf8)
        documents = try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }

    private func document(kind: String) throws -> [String: Any] {
        try #require(documents.first { $0["kind"] as? String == kind }, "no \(kind)")
    }

    private var podSpec: [String: Any] {
        get throws {
            let cronJob = try document(kind: "CronJob")
            let spec = try #require(cronJob["spec"] as? [String: Any])
            #expect(spec["concurrencyPolicy"] as? String == "Forbid")
            let job = try #require((spec["jobTemplate"] as? [String: Any])?["spec"] as? [String: Any])
            return try #require((job["template"] as? [String: Any])?["spec"] as? [String: Any])
        }
    }

    private func container(_ name: String, in key: String) throws -> [String: Any] {
        let list = try #require(try podSpec[key] as? [[String: Any]])
        return try #require(list.first { $0["name"] as? String == name }, "no \(key) \(name)")
    }

    /// The embedded configuration, and where the pod mounts it.
    private func config() throws -> PgcellarConfig {
        let map = try document(kind: "ConfigMap")
        let data = try #require(map["data"] as? [String: String])
        let text = try #require(data["beersystem-stage.yaml"])
        return try PgcellarConfig.parse(yaml: text, source: "/etc/pgcellar/config/beersystem-stage.yaml")
    }

    @Test("the embedded configuration loads: an S3 repository with retention, no credentials")
    func configuration() throws {
        let config = try config()
        guard case .s3(let location)? = config.repository?.location else {
            Issue.record("expected an s3 repository, got \(String(describing: config.repository))")
            return
        }
        #expect(location.forcePathStyle && location.prefix == "beersystem/")
        #expect(config.repository?.keep == RetentionPolicy(last: 3, daily: 7, weekly: 4, monthly: 12))
        let mount = try #require((try container("backup", in: "initContainers")["volumeMounts"] as? [[String: Any]])?
            .first { $0["name"] as? String == "s3-ca" }?["mountPath"] as? String)
        #expect(location.caBundle == mount + "/ca.crt", "caBundle points into the CA Secret's mount")
        let caVolume = try #require((try podSpec["volumes"] as? [[String: Any]])?.first { $0["name"] as? String == "s3-ca" })
        #expect((caVolume["secret"] as? [String: Any])?["optional"] as? Bool == true, "the CA bundle is optional")
    }

    @Test("backup runs first (an init container), then prune; both command lines parse")
    func commands() throws {
        let backup = try container("backup", in: "initContainers")
        let script = try #require((backup["args"] as? [String])?.first)
        let line = try #require(script.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n")
            .first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("exec pgcellar backup") })
        let arguments = line.split(separator: " ").map(String.init).drop { $0 != "backup" }.dropFirst()
        let parsed = try BackupCommand.parse(Array(arguments))
        #expect(parsed.configFile.config == "/etc/pgcellar/config/beersystem-stage.yaml")
        #expect(parsed.noPrune, "prune is the next step, not part of the backup")
        #expect(parsed.metrics.metricsFile?.hasPrefix("/metrics/") == true)

        let prune = try container("prune", in: "containers")
        let command = try #require(prune["command"] as? [String])
        #expect(Array(command.prefix(3)) == ["pgcellar", "backups", "prune"])
        let pruneParsed = try BackupsPruneCommand.parse(Array(command.dropFirst(3)))
        #expect(pruneParsed.configFile.config == parsed.configFile.config)
        #expect(!pruneParsed.dryRun)
        #expect(pruneParsed.metrics.metricsFile == parsed.metrics.metricsFile)
    }

    @Test("non-root, read-only, no privilege escalation; S3 credentials only from Secrets")
    func hardening() throws {
        let pod = try podSpec
        let security = try #require(pod["securityContext"] as? [String: Any])
        #expect(security["runAsNonRoot"] as? Bool == true)
        #expect((security["runAsUser"] as? Int ?? 0) > 0)
        for (name, key) in [("backup", "initContainers"), ("prune", "containers")] {
            let container = try container(name, in: key)
            let context = try #require(container["securityContext"] as? [String: Any])
            #expect(context["allowPrivilegeEscalation"] as? Bool == false, "\(name)")
            #expect(context["readOnlyRootFilesystem"] as? Bool == true, "\(name)")
            #expect((context["capabilities"] as? [String: Any])?["drop"] as? [String] == ["ALL"], "\(name)")
            let environment = try #require(container["env"] as? [[String: Any]])
            let names = environment.compactMap { $0["name"] as? String }
            #expect(names.contains("AWS_ACCESS_KEY_ID") && names.contains("AWS_SECRET_ACCESS_KEY"), "\(name)")
            for variable in environment {
                #expect(variable["value"] == nil, "\(name): \(variable["name"] ?? "") must come from a Secret, not a literal")
                let reference = (variable["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any]
                #expect(reference?["name"] as? String == "pgcellar-s3", "\(name): \(variable["name"] ?? "")")
            }
        }
    }
}
