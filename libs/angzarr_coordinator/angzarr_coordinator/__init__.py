"""The Angzarr coordinator: the runtime behind the ``angzarr`` command."""
