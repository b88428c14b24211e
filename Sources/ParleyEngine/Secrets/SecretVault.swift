import ParleyCore

/// Secret values, read once at start: shared ones and each user's own. Knows every value, so it
/// also masks them wherever they would appear.
public struct SecretVault: Sendable {
    private let shared: [String: String]
    private let perUser: [String: [String: String]]
    /// Masks every secret value.
    public let masker: SecretMasker

    /// Reads every secret the configuration declares. Values that cannot be read are left out
    /// (`parley config check` has already reported them).
    public init(config: ParleyConfig, environment: [String: String]) {
        var shared: [String: String] = [:]
        for secret in config.secrets {
            if let reference = secret.reference, case .success(let value) = reference.resolve(environment: environment)
            {
                shared[secret.name] = value
            }
        }
        var perUser: [String: [String: String]] = [:]
        for user in config.users {
            for (name, reference) in user.secrets {
                if case .success(let value) = reference.resolve(environment: environment) {
                    perUser[user.name, default: [:]][name] = value
                }
            }
        }
        self.shared = shared
        self.perUser = perUser
        let credentials = config.adapterSecrets.compactMap { try? $0.resolve(environment: environment).get() }
        masker = SecretMasker(values: Array(shared.values) + perUser.values.flatMap(\.values) + credentials)
    }

    /// The secrets an action run for `userName` may use: the shared ones, overridden by the user's own.
    public func secrets(for userName: String?) -> [String: String] {
        guard let userName, let own = perUser[userName] else { return shared }
        return shared.merging(own) { _, mine in mine }
    }
}
