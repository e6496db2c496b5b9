import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.SettingValueParsers;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;

/**
 * Starts an embedded Neo4j Community DBMS reachable over Bolt on 127.0.0.1 only (no HTTP,
 * no auth). Usage: Launcher --data-dir DIR --port N [--page-cache 256m] [--parent-pid PID]
 *
 * Contract with manager.py: prints exactly one line "READY bolt://127.0.0.1:PORT" on stdout
 * once the default database is available, then blocks. SIGTERM (or, with --parent-pid, the
 * parent process disappearing) shuts the DBMS down cleanly through a shutdown hook.
 */
public final class Launcher {
    private static volatile DatabaseManagementService dbms;

    public static void main(String[] args) throws Exception {
        String dataDir = null, pageCache = "256m";
        int port = 7687;
        long parentPid = -1;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--data-dir" -> dataDir = args[i + 1];
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--page-cache" -> pageCache = args[i + 1];
                case "--parent-pid" -> parentPid = Long.parseLong(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (dataDir == null || args.length % 2 != 0) {
            System.err.println("usage: Launcher --data-dir DIR --port N [--page-cache 256m] [--parent-pid PID]");
            System.exit(2);
        }
        Path home = Path.of(dataDir).toAbsolutePath();
        SocketAddress bolt = new SocketAddress("127.0.0.1", port);

        // Registered before build(): System.exit / SIGTERM always go through here.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (dbms != null) dbms.shutdown();
        }, "neo4j-shutdown"));
        if (parentPid > 0) watchParent(parentPid);

        try {
            dbms = new DatabaseManagementServiceBuilder(home)
                    .setConfig(GraphDatabaseSettings.logs_directory, home.resolve("logs"))
                    .setConfig(GraphDatabaseSettings.auth_enabled, false)
                    .setConfig(GraphDatabaseSettings.udc_enabled, false)
                    // Else each database fallocates a 256 MiB tx log up front (~0.5 GB per data dir).
                    .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                    // Neo4j's own size syntax ("256m", "1g"), converted to bytes.
                    .setConfig(GraphDatabaseSettings.pagecache_memory, SettingValueParsers.BYTES.parse(pageCache))
                    .setConfig(BoltConnector.enabled, true)
                    .setConfig(BoltConnector.listen_address, bolt)
                    .setConfig(BoltConnector.advertised_address, bolt)
                    .setConfig(HttpConnector.enabled, false)
                    // Defaults are 5s each, which makes every stop take >10s even without clients.
                    .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofSeconds(1))
                    .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofSeconds(1))
                    .build();
            GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
            while (!db.isAvailable(1000)) {
                // Recovery of a big store can take a while; the Python side owns the timeout.
            }
        } catch (Throwable t) {
            // Neo4j's non-daemon threads could otherwise keep a half-started JVM alive.
            t.printStackTrace();
            System.exit(1);
        }
        System.out.println("READY bolt://127.0.0.1:" + port);
        System.out.flush();
        new CountDownLatch(1).await(); // Block forever; exit only via signal / System.exit.
    }

    /**
     * Exits (running the shutdown hook) within ~2s once the process that started us is gone, so
     * a foreground Neo4j does not outlive a Python parent killed with SIGKILL. Being re-parented
     * also counts as gone: that covers PID reuse and a parent that is a zombie.
     */
    private static void watchParent(long parentPid) {
        boolean directChild = ProcessHandle.current().parent().map(p -> p.pid() == parentPid).orElse(false);
        Thread t = new Thread(() -> {
            while (true) {
                boolean alive = ProcessHandle.of(parentPid).map(ProcessHandle::isAlive).orElse(false);
                long ppid = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
                if (!alive || (directChild && ppid != parentPid)) {
                    System.err.println("parent process " + parentPid + " is gone, shutting down");
                    System.exit(0);
                }
                try {
                    Thread.sleep(2000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "parent-watch");
        t.setDaemon(true);
        t.start();
    }
}
