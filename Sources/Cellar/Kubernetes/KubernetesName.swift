import Foundation

/// The rules Kubernetes applies to object names and label values
/// (`k8s.io/apimachinery/pkg/util/validation`), so that a manifest pgcellar
/// writes is not refused by `kubectl apply` after a password was changed.
public enum KubernetesName {
    /// Why `name` is not a DNS-1123 subdomain (a Secret's name), or `nil`:
    /// at most 253 characters of lower-case letters, digits, `-` and `.`,
    /// starting and ending with a letter or digit.
    public static func subdomainProblem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.utf8.count > 253 { return "\(displayQuoted(name)) is \(name.utf8.count) characters long; Kubernetes names hold at most 253" }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) where !isDNSLabel(label) {
            return "\(displayQuoted(name)) is not a valid Kubernetes name: use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"
        }
        return nil
    }

    /// Why `name` is not a DNS-1123 label (a namespace), or `nil`: at most 63
    /// characters of lower-case letters, digits and `-`, starting and ending
    /// with a letter or digit.
    public static func labelProblem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.utf8.count > 63 { return "\(displayQuoted(name)) is \(name.utf8.count) characters long; a Kubernetes namespace holds at most 63" }
        guard isDNSLabel(Substring(name)) else {
            return "\(displayQuoted(name)) is not a valid Kubernetes namespace: use lower-case letters, digits and '-', starting and ending with a letter or digit"
        }
        return nil
    }

    /// Whether `value` may be a label value: empty, or at most 63 characters
    /// of letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit.
    public static func isValidLabelValue(_ value: String) -> Bool {
        if value.isEmpty { return true }
        let bytes = Array(value.utf8)
        guard bytes.count <= 63, isAlphanumeric(bytes.first!), isAlphanumeric(bytes.last!) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    private static func isDNSLabel(_ label: Substring) -> Bool {
        let bytes = Array(label.utf8)
        guard !bytes.isEmpty, bytes.count <= 63 else { return false }
        func lowerAlphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard lowerAlphanumeric(bytes.first!), lowerAlphanumeric(bytes.last!) else { return false }
        return bytes.allSatisfy { lowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
