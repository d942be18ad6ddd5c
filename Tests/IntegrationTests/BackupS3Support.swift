import Foundation
import ObjectStore
import Testing

/// The moto server `scripts/test.sh` starts (scripts/dev-s3.sh, with
/// authentication on), for backups into S3. Tests fail, not skip, without it.
enum BackupS3 {
    struct NotConfigured: Error, CustomStringConvertible {
        var description: String {
            "no test S3 server is configured (PGCELLAR_TEST_S3_ENDPOINT is unset): run the tests through scripts/test.sh, which starts moto (scripts/dev-s3.sh) and exports its settings"
        }
    }

    struct Server {
        var endpoint: String
        var bucket: String
        var credentialsFile: String
    }

    static func server() throws -> Server {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["PGCELLAR_TEST_S3_ENDPOINT"], let bucket = env["PGCELLAR_TEST_S3_BUCKET"],
              let credentials = env["PGCELLAR_TEST_S3_CREDENTIALS_FILE"] else { throw NotConfigured() }
        return Server(endpoint: endpoint, bucket: bucket, credentialsFile: credentials)
    }

    /// The `s3:` location line of a configuration: the test bucket under
    /// `prefix`, credentials from the file moto's bootstrap wrote (or, with
    /// `credentialsFile: nil`, from AWS_* in the environment).
    static func location(prefix: String, bucket: String? = nil, credentialsFile: String?? = .none) throws -> String {
        let server = try server()
        let file = credentialsFile ?? server.credentialsFile
        return "s3: {endpoint: \"\(server.endpoint)\", bucket: \(bucket ?? server.bucket), prefix: \(prefix), forcePathStyle: true"
            + (file.map { ", credentialsFile: \"\($0)\"" } ?? "") + "}"
    }

    /// A store on the same bucket and prefix, to look at what backups left.
    static func store(prefix: String) throws -> S3Store {
        let server = try server()
        return try S3Store(configuration: S3Configuration(endpoint: server.endpoint, bucket: server.bucket, prefix: prefix, forcePathStyle: true),
                           credentials: try S3Credentials.fromFile(path: server.credentialsFile, profile: "default"))
    }

    /// The access key and secret of the test user, for AWS_* variables.
    static func credentials() throws -> S3Credentials {
        try S3Credentials.fromFile(path: try server().credentialsFile, profile: "default")
    }

    static func uniquePrefix(_ name: String) -> String {
        "\(name)-\(UInt32.random(in: 0...UInt32.max))/"
    }
}

extension BackupFixture {
    /// Adds a table of incompressible bytes, so the archive spans several
    /// 5 MiB parts of a multipart upload.
    func addIncompressibleRows(mebibytes: Int) throws {
        try TestServer.withConnection(database: database) { connection in
            try connection.execute("CREATE TABLE blobs (id integer PRIMARY KEY, data bytea)")
            try connection.execute("""
                INSERT INTO blobs SELECT b, (SELECT decode(string_agg(md5(random()::text || b || g), ''), 'hex')
                                              FROM generate_series(1, 65536) g)
                FROM generate_series(1, \(mebibytes)) b
                """)
        }
    }
}
