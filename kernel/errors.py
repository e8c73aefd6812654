"""The three ways a run ends without a result, each with a message meant for the user; and TryLater."""


class UserError(ValueError):
    """The request cannot run as given (bad image, missing prompt, ...). Nothing was spent."""


class RunCancelled(Exception):
    """The user pressed Cancel. The run stopped at the next step."""

    def __init__(self, message: str = "The run was cancelled. Nothing was changed.") -> None:
        super().__init__(message)


class RunFailed(RuntimeError):
    """The model could not finish. The message is safe to show; details went to the log."""


class TryLater(Exception):
    """A limit is reached for now (a quota, a full folder): the caller may try again after `retry_after_s`."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
