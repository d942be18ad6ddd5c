import Cellar
import CellarCommands
import Foundation
import Testing
import Yams

/// deploy/rotation-cronjob.yaml with several roles, checked the way a
/// reviewer would: the roles the scripts walk are the configuration's and
/// the Role's, and no step that can fail for one role keeps `apply` from
/// applying the Secrets of the roles that rotated.
/// (IntegrationTests/RotationCronJobRunTests runs the three scripts.)
@Suite("deploy/rotation-cronjob.yaml")
struct RotationCronJobTests {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/rotation-cronjob.yaml").path

    let documents: [[String: Any]]

    init() throws {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        documents = try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }

    static func value(_ object: Any?, _ keys: String...) -> Any? {
        keys.reduce(object) { ($0 as? [String: Any])?[$1] }
    }

    func document(kind: String) throws -> [String: Any] {
        try #require(documents.first { $0["kind"] as? String == kind }, "no \(kind)")
    }

    var podSpec: [String: Any] {
        get throws {
            let cronJob = try document(kind: "CronJob")
            #expect(Self.value(cronJob, "spec", "concurrencyPolicy") as? String == "Forbid")
            return try #require(Self.value(cronJob, "spec", "jobTemplate", "spec", "template", "spec") as? [String: Any])
        }
    }

    func container(_ name: String, in key: String) throws -> [String: Any] {
        let list = try #require(try podSpec[key] as? [[String: Any]], "no \(key)")
        return try #require(list.first { $0["name"] as? String == name }, "no \(key) \(name)")
    }

    func script(_ container: [String: Any]) throws -> String {
        try #require((container["args"] as? [String])?.first)
    }

    /// Where each container mounts each volume, by volume name.
    func mounts(_ container: [String: Any]) -> [String: (path: String, readOnly: Bool)] {
        var result: [String: (String, Bool)] = [:]
        for mount in container["volumeMounts"] as? [[String: Any]] ?? [] {
            if let name = mount["name"] as? String, let path = mount["mountPath"] as? String {
                result[name] = (path, mount["readOnly"] as? Bool ?? false)
            }
        }
        return result
    }

    /// The ConfigMap's `roles` list ("ROLE SECRET" lines) and its configuration.
    func configMap() throws -> (roles: [(role: String, secret: String)], config: PgcellarConfig) {
        let map = try document(kind: "ConfigMap")
        let data = try #require(map["data"] as? [String: String])
        let roles = try #require(data["roles"]).split(separator: "\n").map { line in
            let parts = line.split(separator: " ").map(String.init)
            return (role: parts.first ?? "", secret: parts.count == 2 ? parts[1] : "")
        }
        let config = try PgcellarConfig.parse(yaml: try #require(data["beersystem-stage.yaml"]),
                                              source: "/etc/pgcellar/config/beersystem-stage.yaml")
        return (roles, config)
    }

    @Test("several roles: the roles list, the configuration's login roles and the Role's Secrets agree")
    func rolesAgree() throws {
        let (roles, config) = try configMap()
        let logins = config.roles.filter(\.login)
        #expect(logins.count >= 2, "the manifest shows how several roles are rotated")
        #expect(roles.map(\.role) == logins.map(\.name))
        #expect(roles.map(\.secret) == logins.compactMap(\.secret?.name))
        for role in logins {
            let secret = try #require(role.secret)
            #expect(secret.file == "/var/lib/pgcellar/\(secret.name).secret.yaml",
                    "sync and apply find \(role.name)'s Secret by its name")
        }
        let rule = try #require((Self.value(try document(kind: "Role"), "rules") as? [[String: Any]])?.first)
        #expect(Set(rule["resourceNames"] as? [String] ?? []) == Set(roles.map(\.secret)))
        #expect(Set(rule["verbs"] as? [String] ?? []) == ["get", "patch"], "get and patch only: no create, no list")
    }

    @Test("rotate never stops the pod: it records pgcellar's exit status for apply and exits 0")
    func rotateRecordsItsStatus() throws {
        let rotate = try container("rotate", in: "initContainers")
        let script = try script(rotate)
        let lines = script.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(!lines.contains { $0.hasPrefix("set -e") || $0.contains("exec pgcellar") },
                "an init container that fails, or execs pgcellar, keeps apply from running")
        let exits = lines.flatMap { $0.matches(of: /(?:^|[;&|]\s*)exit\s+(\S+)/).map { String($0.1) } }
        #expect(!exits.isEmpty && exits.allSatisfy { $0 == "0" }, "every exit of rotate is exit 0: \(exits)")

        let index = try #require(lines.firstIndex { $0.hasPrefix("pgcellar rotate") })
        #expect(lines[index + 1] == #"echo "$?" >/run/pgcellar/rotate.status"#, "pgcellar's status is recorded right away")
        let arguments = lines[index].split(separator: " ").map(String.init).dropFirst(2).filter { $0 != #""$@""# }
        let parsed = try RotateCommand.parse(Array(arguments))
        #expect(parsed.configFile.config == "/etc/pgcellar/config/beersystem-stage.yaml")
        #expect(parsed.ifOlderThan == "30d")
        #expect(!parsed.dryRun && !parsed.printManifests)
        #expect(script.contains(#"set -- "$@" --role "$role""#), "rotates the roles sync prepared, each by name")
    }

    @Test("apply runs after rotate whatever it did, applies each completed Secret, and fails the Job when anything failed")
    func applyRunsRegardless() throws {
        let containers = try #require(try podSpec["containers"] as? [[String: Any]])
        #expect(containers.map { $0["name"] as? String } == ["apply"])
        let apply = try container("apply", in: "containers")
        let script = try script(apply)
        #expect(script.contains("done </etc/pgcellar/config/roles"), "walks every role")
        #expect(script.contains(#"kubectl apply -f "$file""#))
        #expect(script.contains(#"if [ -e "$file.pending" ]"#), "a rotation that did not complete (journal kept) is not applied")
        #expect(script.contains("/run/pgcellar/rotate.status") && script.contains("/run/pgcellar/failed"))
        #expect(script.contains(#"exit "$failed""#))
        #expect(!script.contains("set -e"), "one failed apply must not stop the others")

        // The hand-over lives in a volume of this pod only: a status left by
        // an earlier run must never be read as this run's.
        let run = try #require((try podSpec["volumes"] as? [[String: Any]])?.first { $0["name"] as? String == "run" })
        #expect(run["emptyDir"] != nil)
        for (name, key) in [("sync", "initContainers"), ("rotate", "initContainers"), ("apply", "containers")] {
            #expect(mounts(try container(name, in: key))["run"]?.path == "/run/pgcellar", "\(name) mounts the hand-over")
        }
        #expect(mounts(apply)["state"]?.readOnly == true)
    }

    @Test("sync reports a Secret it cannot read and prepares the other roles")
    func syncContinues() throws {
        let sync = try container("sync", in: "initContainers")
        let script = try script(sync)
        #expect(!script.contains("set -e"), "one unreadable Secret must not stop the others")
        #expect(script.contains("done </etc/pgcellar/config/roles"))
        #expect(script.contains(#"echo "$role" >>/run/pgcellar/ready"#))
        #expect(script.contains(#"echo "sync $secret" >>/run/pgcellar/failed"#))
        #expect(script.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("exit 0"))
    }

    @Test("the admin's password file is mounted in rotate only; every container is non-root and read-only")
    func hardening() throws {
        let pod = try podSpec
        #expect(Self.value(pod, "securityContext", "runAsNonRoot") as? Bool == true)
        for (name, key) in [("sync", "initContainers"), ("rotate", "initContainers"), ("apply", "containers")] {
            let container = try container(name, in: key)
            #expect(Self.value(container, "securityContext", "allowPrivilegeEscalation") as? Bool == false, "\(name)")
            #expect(Self.value(container, "securityContext", "readOnlyRootFilesystem") as? Bool == true, "\(name)")
            #expect(Self.value(container, "securityContext", "capabilities", "drop") as? [String] == ["ALL"], "\(name)")
            let mounted = Set(mounts(container).keys)
            #expect(mounted.contains("admin") == (name == "rotate"), "\(name): admin Secret")
            #expect(mounted.contains("rotate-tmp") == (name == "rotate"), "\(name): the pgpass copy's directory")
        }
    }
}
