import Cellar
import CellarSupport
import Foundation
import Logging
import PostgresClient
import Testing
import Yams

/// Runs the three steps of deploy/rotation-cronjob.yaml (sync, rotate,
/// apply) as the manifest writes them, in order, as the pod would: the real
/// pgcellar against the test server, and for kubectl a stand-in over a
/// directory of Secrets (there is no Kubernetes here). Only the mount paths
/// are moved into a scratch directory.
@Suite("deploy/rotation-cronjob.yaml, run")
struct RotationCronJobRunTests {
    /// A pod's file system: the volumes at their places, the stand-in "API server".
    struct Pod {
        var root: String
        var database: String
        var roles: [(role: String, secret: String)]

        var state: String { root + "/state" }
        var live: String { root + "/live" }
        var run: String { root + "/run" }

        init() throws {
            let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
            root = FileManager.default.temporaryDirectory.appendingPathComponent("pgc-cronjob-\(tag)").path
            database = "cronjob_\(tag)"
            roles = [("cronjob_admin_\(tag)", "owner-secret"), ("cronjob_app_\(tag)", "app-secret"), ("cronjob_ro_\(tag)", "ro-secret")]
            for directory in ["state", "live", "run", "config", "admin", "rotate-tmp", "bin"] {
                try FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
            }
            let profiles = ["owner", "readwrite", "readonly"]
            let yaml = """
                cluster: {host: \(TestServer.host), port: \(TestServer.port), user: postgres, sslmode: require}
                database: {name: \(database), owner: \(roles[0].role)}
                roles:
                \(zip(roles, profiles).map { entry, profile in
                    "  - {name: \(entry.role), profile: \(profile), secret: {name: \(entry.secret), namespace: test, file: \(state)/\(entry.secret).secret.yaml}}"
                }.joined(separator: "\n"))

                """
            try yaml.write(toFile: root + "/config/beersystem-stage.yaml", atomically: false, encoding: .utf8)
            try (roles.map { "\($0.role) \($0.secret)" }.joined(separator: "\n") + "\n")
                .write(toFile: root + "/config/roles", atomically: false, encoding: .utf8)
            // The admin's pgpass, as the pgcellar-admin Secret would hold it.
            let pgpass = try #require(ProcessInfo.processInfo.environment["PGPASSFILE"], "PGPASSFILE: run through scripts/test.sh")
            try FileManager.default.copyItem(atPath: pgpass, toPath: root + "/admin/pgpass")
            try FileManager.default.createSymbolicLink(atPath: root + "/bin/pgcellar", withDestinationPath: try Pgcellar.binary())
            try Self.kubectl.write(toFile: root + "/bin/kubectl", atomically: false, encoding: .utf8)
            chmod(root + "/bin/kubectl", 0o755)
        }

        /// A stand-in for the two kubectl calls the manifest makes, over the
        /// Secrets in $KUBE_LIVE: `get secret NAME -o yaml|jsonpath=...` (as
        /// the API server returns a Secret: without the file's comments) and
        /// `apply -f FILE`, logged to $KUBE_LOG.
        static let kubectl = #"""
            #!/bin/bash
            set -euo pipefail
            if [ "$1 $2" = "get secret" ]; then
              file="$KUBE_LIVE/$3.yaml"
              [ -e "$file" ] || { echo "Error from server (NotFound): secrets \"$3\" not found" >&2; exit 1; }
              case "$5" in
                yaml) grep -v '^#' "$file" ;;
                jsonpath=*rotated-at*) sed -n 's/^    pgcellar\.io\/rotated-at: "\(.*\)"$/\1/p' "$file" | tr -d '\n' ;;
                *) echo "stand-in kubectl: unexpected output $5" >&2; exit 2 ;;
              esac
            elif [ "$1 $2" = "apply -f" ]; then
              name=$(sed -n 's/^  name: "\(.*\)"$/\1/p' "$3")
              # The CronJob's Role may get and patch its Secrets, not create them.
              if [ ! -e "$KUBE_LIVE/$name.yaml" ]; then
                echo "Error from server (Forbidden): secrets \"$name\" is forbidden: cannot create resource \"secrets\"" >&2; exit 1
              fi
              cp "$3" "$KUBE_LIVE/$name.yaml"
              echo "apply $name" >>"$KUBE_LOG"
              echo "secret/$name configured"
            else
              echo "stand-in kubectl: unexpected call $*" >&2; exit 2
            fi
            """#

        /// One container's script from the manifest, with its mounts moved here.
        func script(_ container: String) throws -> (shell: String, text: String) {
            let manifest = try String(contentsOfFile: RotationCronJobRunTests.manifestPath, encoding: .utf8)
            let cronJob = try #require(try Yams.load_all(yaml: manifest).compactMap { $0 as? [String: Any] }
                .first { $0["kind"] as? String == "CronJob" })
            let pod = ["spec", "jobTemplate", "spec", "template", "spec"].reduce(cronJob as Any?) { ($0 as? [String: Any])?[$1] }
            let containers = ["initContainers", "containers"].flatMap { (pod as? [String: Any])?[$0] as? [[String: Any]] ?? [] }
            let found = try #require(containers.first { $0["name"] as? String == container })
            let shell = try #require((found["command"] as? [String])?.first)
            var text = try #require((found["args"] as? [String])?.first)
            for (from, to) in [("/etc/pgcellar/admin/pgpass", root + "/admin/pgpass"), ("/etc/pgcellar/config", root + "/config"),
                               ("/var/lib/pgcellar", state), ("/run/pgcellar", run), ("/tmp/pgpass", root + "/rotate-tmp/pgpass")] {
                text = text.replacingOccurrences(of: from, with: to)
            }
            return (shell, text)
        }

        func runStep(_ container: String) throws -> Pgcellar.Output {
            let (shell, text) = try script(container)
            let path = root + "/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            return try Subprocess.run(shell, ["-c", text], environment: [
                "PATH": path, "KUBE_LIVE": live, "KUBE_LOG": root + "/kube.log", "COLUMNS": "200",
            ])
        }

        /// sync, rotate and apply in the pod's order; the pod would stop at a
        /// failed init container, so the test insists that none fails.
        func runJob() throws -> (rotate: Pgcellar.Output, apply: Pgcellar.Output) {
            try? FileManager.default.removeItem(atPath: run)   // a new pod's emptyDir
            try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: root + "/kube.log")
            let sync = try runStep("sync")
            #expect(sync.status == 0, "sync: \(sync.stdout)\(sync.stderr)")
            let rotate = try runStep("rotate")
            #expect(rotate.status == 0, "rotate must not stop the pod: \(rotate.stderr)")
            return (rotate, try runStep("apply"))
        }

        /// Sets the rotation time of a Secret's volume copy, and of the live
        /// one when `apply` (as a person's kubectl apply would have made it).
        /// - Returns: its password.
        func backdate(_ secret: String, to date: Date, apply: Bool) throws -> String {
            let file = "\(state)/\(secret).secret.yaml"
            var manifest = try #require(try SecretManifest.load(path: file)?.manifest)
            manifest.rotatedAt = date
            try AtomicFile.write(manifest.render(), to: file, mode: 0o600)
            if apply { try manifest.render().write(toFile: "\(live)/\(secret).yaml", atomically: false, encoding: .utf8) }
            return manifest.password
        }

        func liveSecret(_ secret: String) throws -> SecretManifest.Parsed {
            try #require(try SecretManifest.load(path: "\(live)/\(secret).yaml"))
        }

        var applied: [String] {
            ((try? String(contentsOfFile: root + "/kube.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        func logsIn(_ role: String, password: String) -> Bool {
            let target = ConnectionTarget(TestServer.conninfo(user: role, database: database)).overriding("password", password)
            guard let connection = try? target.connect() else { return false }
            connection.close()
            return true
        }

        func cleanUp() {
            _ = try? TestServer.withConnection { admin in
                try admin.execute("DROP DATABASE IF EXISTS \(try admin.escapeIdentifier(database)) WITH (FORCE)")
                for (role, _) in roles { try admin.execute("DROP ROLE IF EXISTS \(try admin.escapeIdentifier(role))") }
            }
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    static let manifestPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/rotation-cronjob.yaml").path

    @Test("one role of three fails: the other two are rotated and applied, and the Job fails; a retry finishes the third")
    func oneRoleFails() throws {
        _ = try TestServer.dsn()
        let pod = try Pod()
        defer { pod.cleanUp() }
        let config = try PgcellarConfig.load(path: pod.root + "/config/beersystem-stage.yaml")
        _ = try Provisioner(config: config, adminDSN: nil, logger: Logger(label: "test.provision")).apply()
        // The Secrets were applied by a person 60 days ago: every role is due.
        let then = Date().addingTimeInterval(-60 * 86_400)
        var before: [String: String] = [:]
        for (_, secret) in pod.roles {
            before[secret] = try pod.backdate(secret, to: then, apply: true)
        }
        let (admin, app, readonly) = (pod.roles[0], pod.roles[1], pod.roles[2])
        // The read-only role can no longer log in: its rotation fails.
        try TestServer.withConnection { try $0.execute("ALTER ROLE \(try $0.escapeIdentifier(readonly.role)) NOLOGIN") }
        let readonlyBefore = try Data(contentsOf: URL(fileURLWithPath: "\(pod.live)/\(readonly.secret).yaml"))

        let first = try pod.runJob()
        #expect(try String(contentsOfFile: pod.run + "/rotate.status", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(first.rotate.stderr.contains(readonly.role), "\(first.rotate.stderr)")
        #expect(first.apply.status == 1, "the Job shows the failure: \(first.apply.stdout)\(first.apply.stderr)")
        #expect(first.apply.stderr.contains("pgcellar rotate exited with status 1"))
        #expect(pod.applied == ["apply \(admin.secret)", "apply \(app.secret)"])
        for (role, secret) in [admin, app] {
            let live = try pod.liveSecret(secret)
            #expect(live.password != before[secret], "\(role) has a new password in its live Secret")
            #expect(live.rotatedAt.map { $0 > then } == true)
            #expect(pod.logsIn(role, password: live.password), "\(role)'s applied password logs in")
            #expect(!pod.logsIn(role, password: try #require(before[secret])), "\(role)'s old password is refused")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(pod.live)/\(readonly.secret).yaml")) == readonlyBefore,
                "the failed role's live Secret is untouched")

        // The Job's retry, once the role can log in again: the two rotated roles
        // are fresh and left alone, the third is rotated and applied.
        try TestServer.withConnection { try $0.execute("ALTER ROLE \(try $0.escapeIdentifier(readonly.role)) LOGIN") }
        let adminAfterFirst = try pod.liveSecret(admin.secret).password
        let second = try pod.runJob()
        #expect(second.apply.status == 0, "\(second.rotate.stderr)\(second.apply.stderr)")
        #expect(pod.applied == ["apply \(readonly.secret)"])
        #expect(try pod.liveSecret(admin.secret).password == adminAfterFirst)
        let readonlyLive = try pod.liveSecret(readonly.secret)
        #expect(readonlyLive.password != before[readonly.secret])
        #expect(pod.logsIn(readonly.role, password: readonlyLive.password))
    }

    @Test("a Secret sync cannot read leaves its role out; the others are rotated and applied, and the Job fails")
    func syncFailureLeavesOneRoleOut() throws {
        _ = try TestServer.dsn()
        let pod = try Pod()
        defer { pod.cleanUp() }
        let config = try PgcellarConfig.load(path: pod.root + "/config/beersystem-stage.yaml")
        _ = try Provisioner(config: config, adminDSN: nil, logger: Logger(label: "test.provision")).apply()
        let then = Date().addingTimeInterval(-60 * 86_400)
        for (index, (_, secret)) in pod.roles.enumerated() {
            // The third Secret was never applied: the API server does not have it.
            _ = try pod.backdate(secret, to: then, apply: index < 2)
        }
        let (readonly, readonlyFile) = (pod.roles[2], "\(pod.state)/\(pod.roles[2].secret).secret.yaml")
        let readonlyState = try Data(contentsOf: URL(fileURLWithPath: readonlyFile))

        let run = try pod.runJob()
        #expect(run.apply.status == 1)
        #expect(run.apply.stderr.contains("sync failed for: sync \(readonly.secret)"), "\(run.apply.stderr)")
        #expect(pod.applied == ["apply \(pod.roles[0].secret)", "apply \(pod.roles[1].secret)"])
        #expect(run.apply.stderr.contains("\(readonly.secret): kubectl apply failed"), "\(run.apply.stderr)")
        #expect(!run.rotate.stderr.contains(readonly.role), "the role was not rotated: \(run.rotate.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: readonlyFile)) == readonlyState)
    }
}
