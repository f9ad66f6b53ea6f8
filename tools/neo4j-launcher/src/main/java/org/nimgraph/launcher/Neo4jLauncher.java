package org.nimgraph.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

/**
 * Runs Neo4j Community embedded, with Bolt on 127.0.0.1 only, until the process is stopped.
 *
 * <p>Usage: {@code Neo4jLauncher DATA_DIR PORT PASSWORD [IMPORT_DIR]}. Prints
 * {@code READY bolt://127.0.0.1:PORT} once Bolt accepts connections and the password is set; shuts
 * the database down cleanly on SIGTERM. With IMPORT_DIR, LOAD CSV may read files from it (benchmarks).
 */
public final class Neo4jLauncher {

    private Neo4jLauncher() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 3 || args.length > 4) {
            System.err.println("usage: Neo4jLauncher DATA_DIR PORT PASSWORD [IMPORT_DIR]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        String password = args[2];
        Files.createDirectories(home);

        DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(home);
        if (args.length == 4) {
            builder.setConfig(GraphDatabaseSettings.allow_file_urls, true)
                    .setConfig(GraphDatabaseSettings.load_csv_file_url_root, Path.of(args[3]).toAbsolutePath());
        }
        DatabaseManagementService service = builder
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(512))
                .setConfig(GraphDatabaseSettings.transaction_timeout, Duration.ofMinutes(10))
                // No usage pings: the tests run with no network but loopback.
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                .setConfig(GraphDatabaseInternalSettings.udc_network_enabled, false)
                .build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.shutdown();
            stopped.countDown();
        }, "neo4j-shutdown"));

        try {
            // Embedded calls bypass auth, so the test password can be set before any client connects.
            service.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED", Map.of("password", password));
        } catch (RuntimeException e) {
            // A restart on the same data with the same password is fine; anything else is not.
            if (!String.valueOf(e.getMessage()).contains("cannot be the same")) {
                System.err.println("FAILED to set the password: " + e.getMessage());
                System.exit(1); // the shutdown hook stops the database
            }
        }

        System.out.println("READY bolt://127.0.0.1:" + port);
        System.out.flush();
        stopped.await();
    }
}
