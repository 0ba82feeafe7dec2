"""A LangGraph graph that needs no model: it answers the last message with
"echo: <its text>", and appends the run's `configurable.suffix` in brackets
when one is given (so a test can see `configurable` arrive)."""

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, MessagesState, StateGraph


def echo(state: MessagesState, config: RunnableConfig) -> dict:
    last = state["messages"][-1] if state["messages"] else None
    text = last.text if last is not None else ""
    answer = f"echo: {text}"
    suffix = (config.get("configurable") or {}).get("suffix")
    if suffix:
        answer += f" [{suffix}]"
    return {"messages": [AIMessage(content=answer)]}


builder = StateGraph(MessagesState)
builder.add_node("echo", echo)
builder.add_edge(START, "echo")
builder.add_edge("echo", END)
graph = builder.compile()
