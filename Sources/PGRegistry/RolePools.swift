import PGConfig
import Synchronization

/// The pools of a database entry's `roles`, one per PostgreSQL role (items that map several
/// principals to one role share its pool), each made on first use: min 0, so it opens connections
/// only when a caller of that role runs something, and its idle timeout closes them. Registered in
/// the registry's `PoolGroup` like every pool, and listed among `allPools` once made, so that ticks
/// close idle connections and `/metrics` and `server_status` show them.
public final class RolePools: Sendable {
    private let pools = Mutex<[String: ConnectionPool]>([:])
    /// The role of each item of `roles`, in order.
    private let users: [String]
    private let make: @Sendable (Int) -> ConnectionPool

    /// - Parameter make: the pool of the role of `roles[index]`.
    init(roles: [RoleMapping], make: @escaping @Sendable (Int) -> ConnectionPool) {
        users = roles.map(\.user)
        self.make = make
    }

    /// The pool of the role of `roles[index]`, made now if this is its first use.
    public func pool(_ index: Int) -> ConnectionPool {
        let user = users[index]
        return pools.withLock { pools in
            if let pool = pools[user] { return pool }
            let pool = make(users.firstIndex(of: user) ?? index)
            pools[user] = pool
            return pool
        }
    }

    /// The pools made so far, in the order of their roles' first items.
    public var opened: [ConnectionPool] { openedByItem.map(\.pool) }

    /// Each pool made so far with the index of its role's first item.
    var openedByItem: [(index: Int, pool: ConnectionPool)] {
        pools.withLock { pools in
            users.enumerated().compactMap { index, user in
                users.firstIndex(of: user) == index ? pools[user].map { (index, $0) } : nil
            }
        }
    }
}

extension ConnectionPoolRegistry {
    /// The role pools `target` has made, as targets (each with its role's config), for `allPools`.
    func rolePoolTargets(_ target: DatabaseTarget) -> [DatabaseTarget] {
        guard let rolePools = target.rolePools else { return [] }
        return rolePools.openedByItem.map { index, pool in target.with(config: target.config.asRole(index), pool: pool) }
    }
}
