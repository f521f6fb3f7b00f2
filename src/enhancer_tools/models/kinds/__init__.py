"""One module per model kind. Each defines ``KIND``, a ``models.kind.ModelKind``, and keeps its
imports light (torch and the architecture are imported inside its functions): the registry
imports every module here to list the kinds. A new kind is one new module in this folder."""
