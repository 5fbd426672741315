"""Generated framework stubs live in ``angzarr_client.proto.angzarr``."""
