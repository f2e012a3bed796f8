from pathlib import Path

from mlops_jlab import config


def test_defaults_come_from_home():
    s = config.resolve(environ={"MLOPS_JLAB_HOME": "/data/m"})
    assert s.home == Path("/data/m")
    assert s.db_url == "sqlite:////data/m/mlops.db"
    assert s.artifacts == "/data/m/artifacts"
    assert not s.remote


def test_explicit_beats_env_beats_default():
    env = {"MLOPS_JLAB_HOME": "/env", "MLOPS_JLAB_DB_URL": "postgresql://h/db",
           "MLOPS_JLAB_USER": "bob", "MLOPS_JLAB_URI": "https://mlops.example"}
    s = config.resolve(home="/explicit", user="carol", environ=env)
    assert s.home == Path("/explicit")
    assert s.db_url == "postgresql://h/db"
    assert s.user == "carol"
    assert s.remote


def test_user_defaults_to_os_user():
    assert config.resolve(environ={}).user
