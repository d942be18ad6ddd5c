import Cellar
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

    /// The drill container, its script and the pod spec around it.
    static func drillContainer() throws -> (pod: Any?, container: [String: Any], script: String) {
        let cronJob = try #require(try documents().first { $0["kind"] as? String == "CronJob" })
        let pod = value(cronJob, "spec", "jobTemplate", "spec", "template", "spec")
        let container = try #require((value(pod, "containers") as? [[String: Any]])?.first)
        let script = try #require((container["args"] as? [String])?.first)
        return (pod, container, script)
    }

    /// The words of a `/bin/sh` line as the shell splits them: blanks separate
    /// words, except inside double quotes, which are removed.
    static func shellWords(_ line: Substring) -> [String] {
        var words: [String] = []
        var word: String?
        var quoted = false
        for character in line {
            if character == "\"" {
                quoted.toggle()
                word = word ?? ""
            } else if character.isWhitespace && !quoted {
                if let finished = word { words.append(finished) }
                word = nil
            } else {
                word = (word ?? "") + String(character)
            }
        }
        if let finished = word { words.append(finished) }
        return words
    }

    /// What `exec pgcellar drill` receives: the words after `drill`, with
    /// `"$@"` replaced by what `set --` put there (the identity, when its
    /// Secret is mounted).
    static func drillArguments(_ script: String, identityMounted: Bool) throws -> [String] {
        let lines = script.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n")
        let exec = try #require(lines.first { $0.contains("exec pgcellar drill") })
        let identityLine = try #require(lines.first { $0.contains("then set --") }, "the identity is passed when its Secret exists")
        let identity = identityMounted
            ? Array(shellWords(identityLine.split(separator: ";")[1]).drop { $0 != "--" }.dropFirst())
            : []
        let words = shellWords(exec)
        let afterDrill = words.drop { $0 != "drill" }.dropFirst()
        return afterDrill.flatMap { $0 == "$@" ? identity : [$0] }
    }

    @Test("it drills repo:latest from the backup configuration's repository; the command line parses, with and without the identity")
    func command() throws {
        let (pod, container, script) = try Self.drillContainer()
        let withIdentity = try DrillCommand.parse(try Self.drillArguments(script, identityMounted: true))
        let withoutIdentity = try DrillCommand.parse(try Self.drillArguments(script, identityMounted: false))
        #expect(withIdentity.file == "repo:latest", "the newest backup in the repository, not a file on a volume")
        #expect(withoutIdentity.file == "repo:latest")
        #expect(withoutIdentity.identity.identityFile == nil)
        #expect(!withIdentity.server.contains("password"), "no password in the DSN: the pgpass file carries it")
        #expect(withIdentity.server.contains("sslmode=require"))
        #expect(script.contains("PGPASSFILE=/tmp/pgpass"))
        #expect(script.contains("umask 077"), "the copied pgpass is 0600")

        // -c names the key the backup's ConfigMap holds, where it is mounted.
        let mounts = try #require(container["volumeMounts"] as? [[String: Any]])
        let volumes = try #require(Self.value(pod, "volumes") as? [[String: Any]])
        func volume(mountedAbove path: String) throws -> (mount: [String: Any], volume: [String: Any]) {
            let directory = (path as NSString).deletingLastPathComponent
            let mount = try #require(mounts.first { $0["mountPath"] as? String == directory }, "\(path) lies in a mounted volume")
            let volume = try #require(volumes.first { $0["name"] as? String == mount["name"] as? String })
            return (mount, volume)
        }
        let config = try #require(withIdentity.repositoryOptions.config)
        let configVolume = try volume(mountedAbove: config)
        #expect(configVolume.mount["readOnly"] as? Bool == true)
        #expect(Self.value(configVolume.volume, "configMap", "name") as? String == "pgcellar-backup-config",
                "the ConfigMap deploy/backup-cronjob.yaml defines, so the drill reads the repository the backups go to")
        let backupText = try String(contentsOfFile: Self.path.replacingOccurrences(of: "drill-cronjob", with: "backup-cronjob"), encoding: .utf8)
        let configMap = try #require(try Yams.load_all(yaml: backupText).compactMap { $0 as? [String: Any] }
            .first { $0["kind"] as? String == "ConfigMap" })
        #expect(Self.value(configMap, "metadata", "name") as? String == "pgcellar-backup-config")
        let configText = try #require(Self.value(configMap, "data", (config as NSString).lastPathComponent) as? String,
                                      "the ConfigMap has the key -c names")
        let parsedConfig = try PgcellarConfig.parse(yaml: configText, source: config)
        let repository = try #require(parsedConfig.repository, "the configuration names a repository")
        guard case .s3(let location) = repository.location else {
            Issue.record("expected an S3 repository")
            return
        }
        // The CA bundle the configuration names is where the drill mounts the CA Secret.
        let caBundle = try #require(location.caBundle)
        let ca = try volume(mountedAbove: caBundle)
        #expect(Self.value(ca.volume, "secret", "secretName") as? String == "pgcellar-s3-ca")
        #expect(Self.value(ca.volume, "secret", "optional") as? Bool == true)

        // The identity: an optional Secret, mounted read-only.
        let identity = try #require(withIdentity.identity.identityFile)
        let identityVolume = try volume(mountedAbove: identity)
        #expect(identityVolume.mount["readOnly"] as? Bool == true)
        #expect(Self.value(identityVolume.volume, "secret", "optional") as? Bool == true, "an unencrypted repository needs no identity")
        #expect(script.contains("if [ -f \(identity) ]"), "--identity only when the Secret is there")

        // The metrics file goes into the node's textfile collector directory.
        let metrics = try #require(withIdentity.metricsFile)
        let metricsVolume = try volume(mountedAbove: metrics)
        #expect(metricsVolume.mount["readOnly"] as? Bool != true)
        #expect(Self.value(metricsVolume.volume, "hostPath", "path") as? String == "/var/lib/node_exporter/textfile_collector")
        #expect(!volumes.contains { $0["persistentVolumeClaim"] != nil }, "no exports volume: the backup comes from the repository")
    }

    @Test("the S3 credentials come from the pgcellar-s3 Secret as environment variables, never literals")
    func credentials() throws {
        let (_, container, script) = try Self.drillContainer()
        let environment = try #require(container["env"] as? [[String: Any]])
        let names = environment.compactMap { $0["name"] as? String }
        #expect(names.contains("AWS_ACCESS_KEY_ID") && names.contains("AWS_SECRET_ACCESS_KEY"))
        for variable in environment {
            #expect(variable["value"] == nil, "\(variable["name"] ?? ""): from a Secret, not a literal")
            #expect(Self.value(variable, "valueFrom", "secretKeyRef", "name") as? String == "pgcellar-s3")
        }
        #expect(!script.contains("AWS_"), "no credential in the script or argv")
    }
}
