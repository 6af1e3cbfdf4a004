"""A real single-node Apache Kafka (KRaft, combined broker + controller) for development,
tests and the demo, resolved from Maven Central with `mvn` into a cache directory.

Kafka 4.1 (KRaft only). aiokafka 0.14 and kafka-python 3.x both speak to it; kafka-python 2.2.x
does not (ListOffsets v0, dpkp/kafka-python#2679), hence the kafka-python>=3 pin.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

KAFKA_VERSION = "4.1.1"
SCALA = "2.13"
LOG4J_VERSION = "2.24.3"
SLF4J_VERSION = "2.0.16"

POM = f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tablero</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_{SCALA}</artifactId><version>{KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>{SLF4J_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>{LOG4J_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>{LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
"""

LOG4J2 = """Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
"""


class KafkaSetupError(RuntimeError):
    """A one-line, actionable reason why the local broker cannot run."""


def cache_dir() -> Path:
    base = os.environ.get("TABLERO_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tablero" / f"kafka-{KAFKA_VERSION}"


def _require(tool: str, what: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise KafkaSetupError(
            f"`{tool}` not found: install {what}, or set TABLERO_KAFKA=host:port to use an existing broker."
        )
    return path


def resolve_jars(progress=print) -> Path:
    """Download the broker's jars once; later calls reuse the cache."""
    libs = cache_dir() / "libs"
    marker = libs / ".complete"
    if marker.exists():
        return libs
    _require("java", "Java 17 (e.g. `apt-get install openjdk-17-jre-headless`)")
    mvn = _require("mvn", "Maven (e.g. `apt-get install maven`)")
    cache_dir().mkdir(parents=True, exist_ok=True)
    (cache_dir() / "pom.xml").write_text(POM)
    tmp = cache_dir() / "libs.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    progress(f"Resolving Apache Kafka {KAFKA_VERSION} from Maven Central into {cache_dir()} (once) ...")
    proc = subprocess.run(
        [mvn, "-q", "-B", "-f", str(cache_dir() / "pom.xml"), "dependency:copy-dependencies",
         f"-DoutputDirectory={tmp}", "-DincludeScope=runtime"],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise KafkaSetupError(
            "mvn could not resolve Kafka from Maven Central (network or ~/.m2 settings?): "
            + (proc.stdout + proc.stderr).strip().splitlines()[-1:][0] if (proc.stdout + proc.stderr).strip() else "no output"
        )
    shutil.rmtree(libs, ignore_errors=True)
    tmp.rename(libs)
    marker.write_text(KAFKA_VERSION)
    return libs


@dataclass(frozen=True)
class SaslSslListener:
    """An extra SASL_SSL listener (tests, and trying TLS/SASL settings locally): PEM key store of
    the broker (private key + certificate chain), the CA that client certificates must chain to,
    and SCRAM users (SCRAM-SHA-256 and -512), which KRaft takes when the log dir is formatted
    (`kafka-storage format --add-scram`). PLAIN accepts the same users."""

    port: int
    keystore_pem: Path
    truststore_pem: Path
    users: tuple[tuple[str, str], ...]  # (name, password)
    client_auth: str = "required"       # required | requested | none

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def properties(self) -> list[str]:
        plain_users = " ".join(f'user_{name}="{pw}"' for name, pw in self.users)
        p = "listener.name.sasl_ssl."
        return [
            "sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN",
            f"{p}scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
            f"{p}scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
            f"{p}plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};",
            f"{p}ssl.keystore.type=PEM",
            f"{p}ssl.keystore.location={self.keystore_pem}",
            f"{p}ssl.truststore.type=PEM",
            f"{p}ssl.truststore.location={self.truststore_pem}",
            f"{p}ssl.client.auth={self.client_auth}",
        ]

    def scram_format_args(self) -> list[str]:
        args = []
        for name, pw in self.users:
            for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
                args += ["--add-scram", f"{mechanism}=[name={name},password={pw}]"]
        return args


@dataclass
class LocalKafka:
    """Paths and ports of one local broker living in `<data_dir>/kafka`."""

    data_dir: Path
    port: int = 19092
    sasl_ssl: SaslSslListener | None = None  # an extra listener; PLAINTEXT on `port` stays

    @property
    def home(self) -> Path:
        return self.data_dir.resolve() / "kafka"

    @property
    def controller_port(self) -> int:
        return self.port + 1

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "kafka.log"

    def _properties(self) -> str:
        extra = f",SASL_SSL://{self.sasl_ssl.bootstrap}" if self.sasl_ssl else ""
        return "\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.bootstrap.servers=127.0.0.1:{self.controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}{extra}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}{extra}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
            + (",SASL_SSL:SASL_SSL" if self.sasl_ssl else ""),
            *(self.sasl_ssl.properties() if self.sasl_ssl else []),
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={self.home / 'logs'}",
            "num.partitions=4",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=8",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=true",
            "message.max.bytes=4194304",
            "log.retention.hours=336",
            "",
        ])

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def accepting(self, timeout: float = 0.5) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=timeout):
                return True
        except OSError:
            return False

    def start(self, wait_s: float = 90.0, progress=print) -> float:
        """Start (or find running) and wait until clients are served. Returns seconds taken."""
        t0 = time.monotonic()
        if self.pid() and self.accepting():
            progress(f"Kafka already running on {self.bootstrap} (pid {self.pid()})")
            return 0.0
        if self.accepting():
            raise KafkaSetupError(
                f"port {self.port} is taken by another program; set TABLERO_KAFKA_PORT to a free port "
                f"or TABLERO_KAFKA={self.bootstrap} to use that broker.")
        libs = resolve_jars(progress)
        java = _require("java", "Java 17 (e.g. `apt-get install openjdk-17-jre-headless`)")
        self.home.mkdir(parents=True, exist_ok=True)
        props = self.home / "server.properties"
        props.write_text(self._properties())
        (self.home / "log4j2.yaml").write_text(LOG4J2)
        classpath = f"{libs}/*"
        if not (self.home / "logs" / "meta.properties").exists():
            cluster_id = uuid.uuid4().hex[:22]
            fmt = subprocess.run(
                [java, "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", cluster_id,
                 "-c", str(props), "--standalone", *(self.sasl_ssl.scram_format_args() if self.sasl_ssl else [])],
                capture_output=True, text=True,
            )
            if fmt.returncode != 0:
                raise KafkaSetupError(f"formatting the KRaft log dir failed: {fmt.stderr.strip() or fmt.stdout.strip()}")
        log = open(self.log_file, "ab")
        proc = subprocess.Popen(
            [java, "-Xms256m", "-Xmx768m", "-XX:+UseG1GC",
             f"-Dlog4j2.configurationFile={self.home / 'log4j2.yaml'}",
             "-cp", classpath, "kafka.Kafka", str(props)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        self.pid_file.write_text(str(proc.pid))
        deadline = t0 + wait_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = self.log_file.read_text(errors="replace").strip().splitlines()[-5:]
                raise KafkaSetupError("Kafka exited at start: " + " | ".join(tail))
            if self.accepting() and _serves_metadata(self.bootstrap):
                return time.monotonic() - t0
            time.sleep(0.25)
        raise KafkaSetupError(f"Kafka did not accept clients within {wait_s:.0f}s; see {self.log_file}")

    def stop(self, wait_s: float = 30.0) -> bool:
        pid = self.pid()
        if not pid:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if _reaped(pid) or self.pid() is None:
                break
            time.sleep(0.2)
        else:
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True


def _reaped(pid: int) -> bool:
    """True once the broker exited when it is our own child (tests, `tablero up`): an exited child
    stays a zombie that signal 0 still finds until it is waited for, so `stop` waited its whole
    30 s for nothing and then sent SIGKILL."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child: pid() tells
        return False
    return done == pid


def _serves_metadata(bootstrap: str) -> bool:
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000,
                                 client_id="tablero-probe")
        try:
            admin.list_topics()
            return True
        finally:
            admin.close()
    except (KafkaError, OSError, ValueError):
        return False


if __name__ == "__main__":  # pragma: no cover - manual use
    print(LocalKafka(Path(sys.argv[1])).start())
