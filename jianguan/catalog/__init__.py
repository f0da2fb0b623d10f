"""监管事项目录清单: supervision items, implementation lists, versions, publication, national alignment."""
